//go:build enginefault

package enginefault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

func TestEngineFault(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Engine Fault Suite")
}

var (
	docker  *client.Client
	suiteID string
	binary  string
)

var _ = BeforeSuite(func(ctx SpecContext) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suiteID = hex.EncodeToString(b)
	var err error
	docker, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	Expect(err).NotTo(HaveOccurred())
	Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
	binary, err = fixtures.BuildController(ctx, GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(5*time.Minute))

// The daemon must be back whatever happened, for whoever uses the machine next.
var _ = AfterSuite(func(ctx SpecContext) {
	ensureSwarm(ctx)
}, NodeTimeout(3*time.Minute))

// ensureSwarm starts the Docker daemon again (hack/ensure-swarm.sh) and waits for swarm mode.
func ensureSwarm(ctx context.Context) {
	cmd := exec.CommandContext(ctx, filepath.Join(fixtures.RepoRoot(), "hack", "ensure-swarm.sh"))
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	Eventually(func() string {
		info, err := docker.Info(ctx)
		if err != nil {
			return err.Error()
		}
		return string(info.Swarm.LocalNodeState) + fmt.Sprint(info.Swarm.ControlAvailable)
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Equal("activetrue"))
}

// stopDocker stops the Docker daemon and waits until it no longer answers.
func stopDocker(ctx context.Context) {
	out, err := exec.CommandContext(ctx, "pkill", "-TERM", "-x", "dockerd").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "pkill dockerd: %s", out)
	Eventually(func() error { _, err := docker.Ping(ctx); return err }).WithContext(ctx).
		WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).ShouldNot(Succeed())
}

// ccci runs a one-shot command scoped to the suite and returns stdout, stderr and exit code.
func ccci(ctx context.Context, dir string, args ...string) (string, string, int) {
	cmd := exec.CommandContext(ctx, binary, append([]string{"--resources", filepath.Join(dir, "resources"), "--state", filepath.Join(dir, "state"), args[0], "--label", v1.LabelTestSuite + "=" + suiteID}, args[1:]...)...)
	out, errOut, code, err := fixtures.RunCLI(cmd)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("$ ccci %s -> %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	return out, errOut, code
}

// runVerdict is the verdict of the newest run record of the suite's RecipeTest, as the trigger
// process stored it ("" while there is none).
func runVerdict(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "state", "runs", "ef", "*", "run.json"))
	var verdict string
	newest := ""
	for _, f := range files {
		if f < newest {
			continue
		}
		data, err := os.ReadFile(f)
		var rec struct {
			Verdict string `json:"verdict"`
		}
		if err == nil && json.Unmarshal(data, &rec) == nil {
			newest, verdict = f, rec.Verdict
		}
	}
	return verdict
}

// runObjects lists what Swarm still holds of the suite's test runs: services by the run label,
// and the volumes, secrets and networks of stacks named ccci_*.
// preexisting are the ccci_ef volumes found before the suite ran (see runObjects).
var preexisting = map[string]bool{}

func runObjects(ctx context.Context) []string {
	out := []string{}
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelRun))})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		if s.Spec.Labels[v1.LabelTestSuite] == suiteID {
			out = append(out, "service "+s.Spec.Name)
		}
	}
	vols, err := docker.VolumeList(ctx, volume.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	for _, v := range vols.Volumes {
		// Volumes carry only the namespace label: those that were there before the suite
		// belong to another run of it, not to this one.
		if strings.HasPrefix(v.Labels[v1.LabelStackNamespace], "ccci_ef") && !preexisting[v.Name] {
			out = append(out, "volume "+v.Name)
		}
	}
	secrets, err := docker.SecretList(ctx, swarm.SecretListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelTestSuite+"="+suiteID))})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range secrets {
		if strings.HasPrefix(s.Spec.Labels[v1.LabelSecretOf], "ccci_") {
			out = append(out, "secret "+s.Spec.Name)
		}
	}
	return out
}

var _ = Describe("the Docker daemon restarted under a test run", func() {
	It("aborts the run, leaves nothing once the daemon is back, and the next pass tests again and promotes", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		repo, err := fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.MkdirAll(filepath.Join(dir, "resources"), 0o755)).To(Succeed())
		stack := "warm_ef_" + suiteID
		DeferCleanup(func(ctx SpecContext) {
			c, err := ccciswarm.NewClient()
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Remove(ctx, stack, true)).To(Succeed())
		}, NodeTimeout(2*time.Minute))
		// The recipe is named ef so its test stacks are ccci_ef_<run>.
		Expect(os.WriteFile(filepath.Join(dir, "resources", "ef.yaml"), []byte(fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: ef
spec:
  recipe: ef
  source:
    git: %s
  env:
    DOMAIN: "{{ .Stack }}.test.example.org"
  tiers:
    - name: install
    - name: upgrade
      from: previous
    - name: backup
    - name: restore
  timeout: 10m
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: ef
spec:
  version: "1.1.0+1.1"
  stack: %s
  timeout: 2m
`, repo, stack)), 0o644)).To(Succeed())

		vols, err := docker.VolumeList(ctx, volume.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, v := range vols.Volumes {
			if strings.HasPrefix(v.Labels[v1.LabelStackNamespace], "ccci_ef") {
				preexisting[v.Name] = true
				GinkgoWriter.Printf("volume %s was left by an earlier run of this suite; not counted\n", v.Name)
			}
		}

		By("starting a test run and stopping the daemon once its stacks are up")
		type result struct {
			stderr string
			code   int
		}
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			_, errOut, code := ccci(ctx, dir, "trigger", "recipetest/ef", "--ref", "1.1.0+1.1")
			done <- result{errOut, code}
		}()
		Eventually(runObjects).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).ShouldNot(BeEmpty())
		stopDocker(ctx)
		By("starting the daemon again once the run has judged itself, without it")
		Eventually(runVerdict).WithContext(ctx).WithArguments(dir).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).
			Should(Equal(string(v1.VerdictAborted)))
		ensureSwarm(ctx)

		By("reading the verdict: Aborted, with the cause, not a red recipe")
		var r result
		Eventually(done).WithContext(ctx).WithTimeout(5 * time.Minute).Should(Receive(&r))
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("was aborted, not judged"))
		Expect(r.stderr).To(ContainSubstring("the Docker engine failed during"))

		By("finding nothing of the run left on Swarm, without a restart of the controller")
		Eventually(runObjects).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(BeEmpty())

		By("a sweep testing again and promoting once the pause after an aborted run is over, judged by Docker")
		Eventually(func() string {
			out, _, _ := ccci(ctx, dir, "sweep")
			return out
		}).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(20 * time.Second).Should(MatchRegexp(`(?m)^ef\s.*PROMOTED`))
		svc, _, err := docker.ServiceInspectWithRaw(ctx, stack+"_app", swarm.ServiceInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(svc.Spec.Labels[v1.VersionLabel(stack)]).To(Equal("1.1.0+1.1"))

		By("the sweep's own run leaving nothing either, once the command returned")
		Expect(runObjects(ctx)).To(BeEmpty())
	}, NodeTimeout(15*time.Minute))
})
