//go:build integration

package swarm

import (
	"bytes"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("Deploy", Ordered, func() {
	var (
		name     string
		dir      string
		logs     bytes.Buffer
		password string
	)
	withLog := func(ctx SpecContext) logr.Logger {
		return funcr.New(func(prefix, args string) { logs.WriteString(prefix + " " + args + "\n") }, funcr.Options{Verbosity: 2})
	}

	BeforeAll(func() {
		name = "swt_" + randomSuffix()
		_, dir = testStack(name, nil, nil)
		DeferCleanup(func(ctx SpecContext) {
			Expect(cli.Remove(ctx, name, true)).To(Succeed())
		}, NodeTimeout(3*time.Minute))
	})

	Context("when the stack is new", func() {
		It("deploys version 1.0, healthy and labelled", func(ctx SpecContext) {
			s := loadTestStack(dir, name, nil, nil)
			res, err := cli.Deploy(logr.NewContext(ctx, withLog(ctx)), s, deployOptions("1.0.0+1"))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.AlreadyDeployed).To(BeFalse())
			Expect(res.Created).To(ConsistOf(name + "_app"))

			By("waiting for convergence")
			Expect(cli.WaitConverged(ctx, name, 90*time.Second)).To(Succeed())

			By("reading the labels abra and we rely on")
			st, err := cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Version).To(Equal("1.0.0+1"))
			Expect(st.Converged()).To(BeTrue())
			app := st.Services[0]
			Expect(app.Running).To(Equal(1))
			Expect(app.Labels).To(HaveKeyWithValue(v1.LabelStackNamespace, name))
			Expect(app.Labels).To(HaveKeyWithValue(v1.VersionLabel(name), "1.0.0+1"))
			Expect(app.Labels).To(HaveKeyWithValue(v1.LabelManagedBy, v1.ManagedByValue))
			Expect(app.Labels).To(HaveKeyWithValue(v1.LabelRole, v1.RoleTest))
			Expect(app.Labels).To(HaveKeyWithValue(v1.LabelRun, "run-"+suiteID))
			Expect(app.Labels).To(HaveKey(v1.LabelSpecHash))
			Expect(app.Labels).To(HaveKeyWithValue(v1.LabelBackup, "true"))

			By("reading the generated secret inside the container")
			out, err := cli.Exec(ctx, name, "app", []string{"/app", "cat", "/run/secrets/db_password"})
			Expect(err).NotTo(HaveOccurred())
			Expect(out.ExitCode).To(Equal(0), out.Stderr)
			password = out.Stdout
			Expect(password).To(HaveLen(24))
			Expect(logs.String()).NotTo(ContainSubstring(password))
		}, NodeTimeout(3*time.Minute))
	})

	Context("when the same input is deployed again", func() {
		It("makes no write call and changes no Version.Index", func(ctx SpecContext) {
			before, err := cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			counter.reset()
			res, err := cli.Deploy(ctx, loadTestStack(dir, name, nil, nil), deployOptions("1.0.0+1"))
			Expect(err).NotTo(HaveOccurred())
			Expect(counter.writes()).To(BeEmpty())
			Expect(res.AlreadyDeployed).To(BeTrue())
			after, err := cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			Expect(versionIndexes(after)).To(Equal(versionIndexes(before)))
		}, NodeTimeout(time.Minute))
	})

	Context("when a new version is deployed", func() {
		It("updates in place and keeps volume data and the secret", func(ctx SpecContext) {
			By("writing a marker into the volume")
			out, err := cli.Exec(ctx, name, "app", []string{"/app", "write", "/data/marker", "kept"})
			Expect(err).NotTo(HaveOccurred())
			Expect(out.ExitCode).To(Equal(0), out.Stderr)

			s := loadTestStack(dir, name, nil, map[string]string{"APP_IMAGE_TAG": "2", "RECIPE_VERSION": "1.1.0+2"})
			res, err := cli.Deploy(logr.NewContext(ctx, withLog(ctx)), s, deployOptions("1.1.0+2"))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Updated).To(ConsistOf(name + "_app"))
			Expect(res.Created).To(BeEmpty())
			Expect(cli.WaitConverged(ctx, name, 90*time.Second)).To(Succeed())

			st, err := cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Version).To(Equal("1.1.0+2"))
			out, err = cli.Exec(ctx, name, "app", []string{"/app", "env", "SWARMTEST_VERSION"})
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Stdout).To(Equal("2\n"))
			out, err = cli.Exec(ctx, name, "app", []string{"/app", "cat", "/data/marker"})
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Stdout).To(Equal("kept"))
			out, err = cli.Exec(ctx, name, "app", []string{"/app", "cat", "/run/secrets/db_password"})
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Stdout).To(Equal(password), "the secret was regenerated")
			Expect(logs.String()).NotTo(ContainSubstring(password))
		}, NodeTimeout(3*time.Minute))
	})

	Context("when an overlay adds a service", func() {
		It("creates it, and removes it when the overlay is dropped", func(ctx SpecContext) {
			env := map[string]string{"APP_IMAGE_TAG": "2", "RECIPE_VERSION": "1.1.0+2"}
			s := loadTestStack(dir, name, []string{"compose.yml", "compose.worker.yml"}, env)
			res, err := cli.Deploy(ctx, s, deployOptions("1.1.0+2"))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Created).To(ConsistOf(name + "_worker"))
			Expect(res.Updated).To(BeEmpty())
			Expect(cli.WaitConverged(ctx, name, 90*time.Second)).To(Succeed())
			st, err := cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Services).To(HaveLen(2))
			Expect(st.Services[1].Labels).To(HaveKeyWithValue(v1.VersionLabel(name), "1.1.0+2"))

			By("deploying without the overlay")
			res, err = cli.Deploy(ctx, loadTestStack(dir, name, nil, env), deployOptions("1.1.0+2"))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Removed).To(ConsistOf(name + "_worker"))
			st, err = cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Services).To(HaveLen(1))
		}, NodeTimeout(3*time.Minute))
	})

	Context("when a config changes under the same versioned name", func() {
		It("refuses before touching a service and names the variable to bump", func(ctx SpecContext) {
			before, err := cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(dir, "motd.txt"), []byte("changed\n"), 0o644)).To(Succeed())
			DeferCleanup(func() {
				data, _ := os.ReadFile("testdata/stack/motd.txt")
				Expect(os.WriteFile(filepath.Join(dir, "motd.txt"), data, 0o644)).To(Succeed())
			})
			counter.reset()
			env := map[string]string{"APP_IMAGE_TAG": "2", "RECIPE_VERSION": "1.1.0+2"}
			_, err = cli.Deploy(ctx, loadTestStack(dir, name, nil, env), deployOptions("1.1.0+2"))
			Expect(err).To(MatchError(And(ContainSubstring(`config "motd"`), ContainSubstring("bump MOTD_VERSION"))))
			Expect(counter.writes()).To(BeEmpty())
			after, err := cli.ObserveStack(ctx, name)
			Expect(err).NotTo(HaveOccurred())
			Expect(versionIndexes(after)).To(Equal(versionIndexes(before)))
		}, NodeTimeout(time.Minute))
	})

	Context("when the stack is removed", func() {
		It("leaves no service, network, secret, config or volume", func(ctx SpecContext) {
			Expect(cli.Remove(ctx, name, true)).To(Succeed())
			d := cli.Docker()
			f := stackFilter(name)
			services, err := d.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
			Expect(err).NotTo(HaveOccurred())
			Expect(services).To(BeEmpty())
			nets, err := d.NetworkList(ctx, network.ListOptions{Filters: f})
			Expect(err).NotTo(HaveOccurred())
			Expect(nets).To(BeEmpty())
			cfgs, err := d.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
			Expect(err).NotTo(HaveOccurred())
			Expect(cfgs).To(BeEmpty())
			vols, err := d.VolumeList(ctx, volume.ListOptions{Filters: f})
			Expect(err).NotTo(HaveOccurred())
			Expect(vols.Volumes).To(BeEmpty())
			for _, sf := range []filters.Args{f, filters.NewArgs(filters.Arg("label", v1.LabelSecretOf+"="+name))} {
				secs, err := d.SecretList(ctx, swarm.SecretListOptions{Filters: sf})
				Expect(err).NotTo(HaveOccurred())
				Expect(secs).To(BeEmpty())
			}
		}, NodeTimeout(3*time.Minute))
	})
})

var _ = Describe("WaitConverged", func() {
	Context("when the deployed version is unhealthy", func() {
		It("fails well before its timeout, naming the service and the reason", func(ctx SpecContext) {
			name := "swu_" + randomSuffix()
			s, _ := testStack(name, nil, map[string]string{"UNHEALTHY": "true"})
			DeferCleanup(func(ctx SpecContext) { Expect(cli.Remove(ctx, name, true)).To(Succeed()) }, NodeTimeout(3*time.Minute))
			_, err := cli.Deploy(ctx, s, deployOptions("1.0.0+1"))
			Expect(err).NotTo(HaveOccurred())
			// The NodeTimeout (3m) is shorter than the wait's (5m): only an early failure passes.
			err = cli.WaitConverged(ctx, name, 5*time.Minute)
			Expect(err).To(MatchError(ContainSubstring(name + "_app")))
			Expect(err).NotTo(MatchError(ContainSubstring("not converged after")))
			GinkgoWriter.Println("WaitConverged failed with:", err)
		}, NodeTimeout(3*time.Minute))
	})

	Context("when the image does not exist", func() {
		It("fails early with the image error", func(ctx SpecContext) {
			name := "swi_" + randomSuffix()
			s, _ := testStack(name, nil, map[string]string{"APP_IMAGE_TAG": "does-not-exist"})
			DeferCleanup(func(ctx SpecContext) { Expect(cli.Remove(ctx, name, true)).To(Succeed()) }, NodeTimeout(3*time.Minute))
			_, err := cli.Deploy(ctx, s, deployOptions("1.0.0+1"))
			Expect(err).NotTo(HaveOccurred())
			// The NodeTimeout (3m) is shorter than the wait's (5m): only an early failure passes.
			err = cli.WaitConverged(ctx, name, 5*time.Minute)
			Expect(err).To(MatchError(And(ContainSubstring(name+"_app"), ContainSubstring("No such image"))))
		}, NodeTimeout(3*time.Minute))
	})
})
