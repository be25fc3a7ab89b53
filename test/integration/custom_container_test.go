//go:build integration

package integration

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/hostile"
)

// probeImage builds the probe image running as user (root when empty) for this suite run and
// removes it when the spec ends.
func probeImage(ctx context.Context, user string) string {
	ref := "ccci-probe:" + suiteID + "-" + randomID()
	Expect(hostile.BuildProbeImage(ctx, ref, v1.LabelTestSuite+"="+suiteID, user)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		_, err := docker.ImageRemove(ctx, ref, image.RemoveOptions{Force: true})
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(time.Minute))
	return ref
}

// watchJobs records, until the returned function is called, the spec of every service of this
// suite run that is a custom tier's job, as Docker holds it while the job runs.
func watchJobs(ctx context.Context) func() []swarm.Service {
	ctx, cancel := context.WithCancel(ctx)
	var (
		mu   sync.Mutex
		seen = map[string]swarm.Service{}
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			services, _ := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: suiteFilter()})
			mu.Lock()
			for _, s := range services {
				if strings.HasSuffix(s.Spec.Name, "_ccci-custom") {
					seen[s.ID] = s
				}
			}
			mu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return func() []swarm.Service {
		cancel()
		<-done
		var out []swarm.Service
		for _, s := range seen {
			out = append(out, s)
		}
		return out
	}
}

// writeCustomRecipeTest writes the world's RecipeTest: install, then custom running command,
// in image when it is not empty.
func (w *world) writeCustomRecipeTest(img string, command ...string) {
	custom := fmt.Sprintf("- name: custom\n  command: [%s]\n  timeout: 2m", strings.Join(command, ", "))
	if img != "" {
		custom += "\n  image: " + img
	}
	w.writeRecipeTest("- name: install", custom)
}

// runArtifact reads a file of a run's artifacts in the state directory.
func (w *world) runArtifact(runID, rel string) string {
	dirs, err := filepath.Glob(filepath.Join(w.state, "runs", w.name, "*-"+runID, "artifacts"))
	Expect(err).NotTo(HaveOccurred())
	Expect(dirs).To(HaveLen(1))
	b, err := os.ReadFile(filepath.Join(dirs[0], rel))
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// expectNothingOfRun asks Docker for any service, container or volume of the run: the job's
// own are removed with it.
func expectNothingOfRun(ctx context.Context, runID string) {
	f := filters.NewArgs(filters.Arg("label", v1.LabelRun+"="+runID))
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	Expect(services).To(BeEmpty())
	ctrs, err := docker.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	Expect(err).NotTo(HaveOccurred())
	Expect(ctrs).To(BeEmpty())
	vols, err := docker.VolumeList(ctx, volume.ListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	Expect(vols.Volumes).To(BeEmpty())
}

var _ = Describe("a custom tier with an image", func() {
	It("runs in a container on the swarm that reaches the app by name, sees the recipe read-only and keeps its artifacts; without an image an untrusted ref is refused", func(ctx SpecContext) {
		// Not root: the recipe must be readable and the artifacts writable for any user.
		img := probeImage(ctx, "65534:65534")
		w := newWorld()
		marker := "marker-" + randomID()
		sha := pushPullRequest(ctx, w, 71, func(dir string) {
			Expect(os.MkdirAll(filepath.Join(dir, "tests"), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, "tests", "marker.txt"), []byte(marker), 0o644)).To(Succeed())
			gitIn(ctx, dir, "add", "tests/marker.txt")
		})
		w.writeCustomRecipeTest(img, "/probe", "check")

		By("triggering the pull request, untrusted by default")
		jobs := watchJobs(ctx)
		_, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", sha, "--pr", "71")
		seen := jobs()
		runs := w.runsOf(w.name)
		Expect(runs).To(HaveLen(1))
		run := runs[0]
		Expect(code).To(Equal(0), "%+v", run)
		Expect(run.Trust).To(Equal(v1.TrustUntrusted))
		Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Passed"}))
		described, _, _ := w.ccci(ctx, "describe", "recipetest/"+w.name)
		Expect(described).To(ContainSubstring(fmt.Sprintf("ref %s pr 71 (untrusted)", sha)))

		By("reading the job's service as Docker held it")
		Expect(seen).To(HaveLen(1))
		spec := seen[0].Spec
		Expect(spec.Labels).To(And(HaveKeyWithValue(v1.LabelRun, run.ID), HaveKeyWithValue(v1.LabelRole, v1.RoleTest),
			HaveKeyWithValue(v1.LabelTestSuite, suiteID)))
		stack := spec.Labels[v1.LabelStackNamespace]
		Expect(spec.Name).To(Equal(stack + "_ccci-custom"))
		Expect(spec.TaskTemplate.RestartPolicy.Condition).To(Equal(swarm.RestartPolicyConditionNone))
		Expect(spec.EndpointSpec.Mode).To(Equal(swarm.ResolutionModeDNSRR))
		Expect(spec.TaskTemplate.Networks).NotTo(BeEmpty())
		mounts := spec.TaskTemplate.ContainerSpec.Mounts
		Expect(mounts).To(ConsistOf(
			And(HaveField("Type", mount.TypeVolume), HaveField("Target", "/recipe"), HaveField("ReadOnly", true)),
			And(HaveField("Type", mount.TypeVolume), HaveField("Target", "/artifacts"), HaveField("ReadOnly", false))))
		Expect(spec.TaskTemplate.ContainerSpec.Env).NotTo(ContainElement(HavePrefix("DOCKER_HOST=")))

		By("finding the artifact the container wrote in the run's artifacts")
		report := w.runArtifact(run.ID, "check/report.txt")
		Expect(report).To(ContainSubstring("marker=" + marker + "\n"))
		Expect(report).To(ContainSubstring("app=2.0\n"), "the app answered by service name")
		Expect(report).To(ContainSubstring("stack=" + stack + "\n"))
		Expect(report).To(ContainSubstring("uid=65534\n"), "written by a user that is not root")
		expectNothingOfRun(ctx, run.ID)

		By("triggering it again with the same tier without an image")
		w.writeCustomRecipeTest("", "/probe", "check")
		events := recordEvents(ctx)
		_, _, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", sha, "--pr", "71")
		Expect(code).To(Equal(1))
		runs = w.runsOf(w.name)
		Expect(runs).To(HaveLen(2))
		Expect(results(runs[0])).To(Equal([]string{"lint:Failed", "install:Skipped", "custom:Skipped"}))
		Expect(runs[0].Tiers[0].Reason).To(ContainSubstring(`tiers.custom.command "/probe check" without image (runs on the controller host): not allowed for untrusted refs; set spec.trust: trusted to allow`))
		Expect(events(runs[0].ID)).To(BeEmpty(), "Docker saw no object of the refused run")
	}, NodeTimeout(6*time.Minute))

	It("that attacks cannot write the recipe, read a host file or find the Docker socket, and fails", func(ctx SpecContext) {
		// Root in the container: what keeps it from the recipe and the host is not permissions.
		img := probeImage(ctx, "")
		w := newWorld()
		hostFile := filepath.Join(w.dir, "host-secret.txt")
		secret := "HOST-SECRET-" + randomID()
		Expect(os.WriteFile(hostFile, []byte(secret), 0o644)).To(Succeed())
		sha := pushPullRequest(ctx, w, 72, func(dir string) { appendLine(filepath.Join(dir, "README.md"), "a pull request") })
		w.writeCustomRecipeTest(img, "/probe", "attack", hostFile, "/etc/shadow")

		_, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", sha, "--pr", "72")
		Expect(code).To(Equal(1))
		runs := w.runsOf(w.name)
		Expect(runs).To(HaveLen(1))
		run := runs[0]
		Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Failed"}))
		Expect(run.Tiers[1].Reason).To(Equal(fmt.Sprintf(`command "/probe attack %s /etc/shadow" exited with code 1`, hostFile)))

		By("reading what the container met, copied back although it failed")
		attempts := w.runArtifact(run.ID, "attempts.txt")
		Expect(attempts).To(ContainSubstring("write recipe: open /recipe/pwned: read-only file system"))
		Expect(attempts).To(ContainSubstring(fmt.Sprintf("read %s: open %s: no such file or directory", hostFile, hostFile)))
		Expect(attempts).To(ContainSubstring("read /etc/shadow: open /etc/shadow: no such file or directory"))
		Expect(attempts).To(ContainSubstring("stat docker socket: stat /var/run/docker.sock: no such file or directory"))
		Expect(attempts).NotTo(ContainSubstring("succeeded"))
		Expect(w.leaks(secret)).To(BeEmpty())

		By("finding no file the container wrote outside its artifacts")
		Expect(filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == "pwned" {
				return fmt.Errorf("found %s", p)
			}
			return nil
		})).To(Succeed())
		expectNothingOfRun(ctx, run.ID)
	}, NodeTimeout(6*time.Minute))
})

// results lists a run's tiers as name:result.
func results(run v1.Run) []string {
	var out []string
	for _, t := range run.Tiers {
		out = append(out, string(t.Name)+":"+string(t.Result))
	}
	return out
}
