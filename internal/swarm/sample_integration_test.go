//go:build integration

package swarm

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// sampleTree is the sample recipe's tree at tag; Deploy needs files, not git history.
func sampleTree(tag string) string {
	return filepath.Join(fixtures.RepoRoot(), "config", "sample-recipe", tag)
}

// sampleEnv is the env abra builds for the sample recipe from .env.sample and abra.sh.
func sampleEnv() map[string]string {
	return map[string]string{
		"TYPE": "sample", "DOMAIN": "sample.example.com", "SAMPLE_UNHEALTHY": "false",
		"SECRET_DB_PASSWORD_VERSION": "v1", "MOTD_VERSION": "v1",
	}
}

func loadSample(name, tag string, files ...string) *Stack {
	s, err := Load(LoadOptions{WorkingDir: sampleTree(tag), ComposeFiles: files, Env: sampleEnv(), StackName: name})
	Expect(err).NotTo(HaveOccurred())
	return s
}

var _ = Describe("Deploy of the sample recipe", Ordered, func() {
	var name, password string

	BeforeAll(func(ctx SpecContext) {
		Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
		name = "sws_" + randomSuffix()
		DeferCleanup(func(ctx SpecContext) { Expect(cli.Remove(ctx, name, true)).To(Succeed()) }, NodeTimeout(3*time.Minute))
	}, NodeTimeout(5*time.Minute))

	It("deploys 1.0.0+1.0 healthy with abra's labels and a generated secret", func(ctx SpecContext) {
		_, err := cli.Deploy(ctx, loadSample(name, "1.0.0+1.0"), deployOptions("1.0.0+1.0"))
		Expect(err).NotTo(HaveOccurred())
		Expect(cli.WaitConverged(ctx, name, 2*time.Minute)).To(Succeed())
		st, err := cli.ObserveStack(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Version).To(Equal("1.0.0+1.0"))
		Expect(st.Services[0].Labels).To(HaveKeyWithValue(v1.LabelBackupPath, "/data"))
		out, err := cli.Exec(ctx, name, "app", []string{"/app", "cat", "/run/secrets/db_password"})
		Expect(err).NotTo(HaveOccurred())
		password = out.Stdout
		Expect(password).To(HaveLen(24))
		out, err = cli.Exec(ctx, name, "app", []string{"/app", "state", "set", "marker-1"})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.ExitCode).To(Equal(0), out.Stderr)
	}, NodeTimeout(3*time.Minute))

	It("makes no write call when 1.0.0+1.0 is deployed again", func(ctx SpecContext) {
		before, err := cli.ObserveStack(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		counter.reset()
		res, err := cli.Deploy(ctx, loadSample(name, "1.0.0+1.0"), deployOptions("1.0.0+1.0"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.AlreadyDeployed).To(BeTrue())
		Expect(counter.writes()).To(BeEmpty())
		after, err := cli.ObserveStack(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		Expect(versionIndexes(after)).To(Equal(versionIndexes(before)))
	}, NodeTimeout(time.Minute))

	It("upgrades to 1.1.0+1.1 with the worker overlay in place, keeping state and secret", func(ctx SpecContext) {
		res, err := cli.Deploy(ctx, loadSample(name, "1.1.0+1.1", "compose.yml", "compose.worker.yml"), deployOptions("1.1.0+1.1"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Updated).To(ConsistOf(name + "_app"))
		Expect(res.Created).To(ConsistOf(name + "_worker"))
		Expect(cli.WaitConverged(ctx, name, 2*time.Minute)).To(Succeed())
		st, err := cli.ObserveStack(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Version).To(Equal("1.1.0+1.1"))
		out, err := cli.Exec(ctx, name, "app", []string{"/app", "state", "get"})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Stdout).To(ContainSubstring("marker-1"))
		out, err = cli.Exec(ctx, name, "app", []string{"/app", "cat", "/run/secrets/db_password"})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Stdout).To(Equal(password))
	}, NodeTimeout(3*time.Minute))

	It("removes the worker when the overlay is dropped", func(ctx SpecContext) {
		res, err := cli.Deploy(ctx, loadSample(name, "1.1.0+1.1"), deployOptions("1.1.0+1.1"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Removed).To(ConsistOf(name + "_worker"))
		Expect(res.Updated).To(BeEmpty())
	}, NodeTimeout(time.Minute))

	It("fails WaitConverged early on the unhealthy 1.2.0+1.2, naming the service", func(ctx SpecContext) {
		_, err := cli.Deploy(ctx, loadSample(name, "1.2.0+1.2"), deployOptions("1.2.0+1.2"))
		Expect(err).NotTo(HaveOccurred())
		// The NodeTimeout (4m) is shorter than the wait's (5m): only an early failure passes.
		err = cli.WaitConverged(ctx, name, 5*time.Minute)
		Expect(err).To(MatchError(ContainSubstring(name + "_app")))
		Expect(err).NotTo(MatchError(ContainSubstring("not converged after")))
	}, NodeTimeout(4*time.Minute))
})

var _ = Describe("Deploy of the sample recipe compared with docker stack deploy", func() {
	It("yields equal service specs, and adopts the hand deploy without a write", func(ctx SpecContext) {
		Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
		name := "swd_s_" + randomSuffix()
		env := sampleEnv()
		env["STACK_NAME"] = name
		createExternal(ctx, "secret:"+name+"_db_password_v1")
		compareWithCLI(ctx, name, sampleTree("1.1.0+1.1"), []string{"compose.yml", "compose.worker.yml"}, env, "1.1.0+1.1")
	}, NodeTimeout(5*time.Minute))
})
