//go:build integration

package tiers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	dockerswarm "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// Environment of the child process of the crash spec, which re-executes this test binary.
const (
	envCrashChild = "CCCI_TIERS_CRASH_CHILD"
	envRepo       = "CCCI_TIERS_REPO"
	envCache      = "CCCI_TIERS_CACHE"
	envSuite      = "CCCI_TIERS_SUITE"
	envRunID      = "CCCI_TIERS_RUN_ID"
	envRunDir     = "CCCI_TIERS_RUN_DIR"
)

func TestMain(m *testing.M) {
	if os.Getenv(envCrashChild) != "" {
		crashChild()
		return
	}
	os.Exit(m.Run())
}

var (
	sw      *swarm.Client
	runner  *tiers.Runner
	suiteID string
	repo    string // the sample recipe's git repository
	cache   string
	source  *recipe.Source
	st      *store.Store
)

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	sw, err = swarm.NewClient()
	Expect(err).NotTo(HaveOccurred())
	_, err = sw.Docker().Info(ctx)
	Expect(err).NotTo(HaveOccurred(), "the Docker daemon does not answer; run hack/ensure-swarm.sh")

	By("building the sample images and the sample recipe repository")
	Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
	dir, err := os.MkdirTemp("", "ccci-tiers-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	repo, err = fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
	Expect(err).NotTo(HaveOccurred())
	cache = filepath.Join(dir, "cache")
	source, err = recipe.Open(ctx, "sample", repo, recipe.Options{CacheDir: cache})
	Expect(err).NotTo(HaveOccurred())
	st, err = store.Open(filepath.Join(dir, "state"))
	Expect(err).NotTo(HaveOccurred())

	suiteID = tiers.NewRunID()
	runner = tiers.NewRunner(sw, tiers.Options{Labels: map[string]string{v1.LabelTestSuite: suiteID}, TeardownTimeout: time.Minute})
}, NodeTimeout(5*time.Minute))

var _ = AfterSuite(func(ctx SpecContext) {
	if runner != nil {
		// Only this suite's stacks: the runner is scoped by the suite label.
		Expect(runner.CollectGarbage(ctx)).To(Succeed())
	}
}, NodeTimeout(2*time.Minute))

// sampleSpec is a RecipeTest spec of the sample recipe with short timeouts.
func sampleSpec(tl ...v1.Tier) v1.RecipeTestSpec {
	rt := v1.RecipeTest{Metadata: v1.ObjectMeta{Name: "sample"}, Spec: v1.RecipeTestSpec{
		Source: v1.Source{Git: repo}, Tiers: tl, Timeout: v1.Minutes(2),
		Env: map[string]string{"DOMAIN": "{{ .Stack }}.test.local"},
	}}
	rt.Default()
	return rt.Spec
}

// run runs the sample recipe at ref, storing the record as the controller would.
func run(ctx context.Context, src tiers.Source, ref string, spec v1.RecipeTestSpec) v1.Run {
	return runRecipe(ctx, src, ref, spec, "1.0.0+1.0")
}

// runRecipe runs spec's recipe at ref with knownGood as the warm app's known-good version.
func runRecipe(ctx context.Context, src tiers.Source, ref string, spec v1.RecipeTestSpec, knownGood string) v1.Run {
	id := tiers.NewRunID()
	dir, err := st.RunDir(spec.Recipe, id)
	Expect(err).NotTo(HaveOccurred())
	req := tiers.Request{
		RunID: id, Spec: spec, Source: src, Ref: ref, KnownGood: knownGood, RunDir: dir, Trigger: v1.TriggerManual,
		Progress: func(ev tiers.ProgressEvent) { Expect(st.PutRun(spec.Recipe, id, ev.Run)).To(Succeed()) },
	}
	rec, err := runner.Run(ctx, req)
	Expect(err).NotTo(HaveOccurred())
	// The stacks go in the background once the verdict is known; the log has the teardown.
	Expect(runner.WaitTeardowns(ctx)).To(Succeed())
	Expect(st.PutRun(spec.Recipe, id, rec)).To(Succeed())
	GinkgoWriter.Printf("run %s of %s: %s (%s) in %s\n", rec.ID, ref, rec.Verdict, rec.Message, rec.FinishedAt.Sub(rec.StartedAt).Round(time.Millisecond))
	for _, t := range rec.Tiers {
		GinkgoWriter.Printf("  %-8s %-13s %8s  %s\n", t.Name, t.Result, t.Duration, t.Reason)
	}
	logs := []string{"logs/run.log"}
	for _, t := range rec.Tiers {
		if t.Result == v1.ResultFailed && t.LogFile != "" {
			logs = append(logs, t.LogFile)
		}
	}
	for _, f := range logs {
		if log, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
			GinkgoWriter.Printf("%s:\n%s", f, log)
		}
	}
	return rec
}

// leftovers lists every Swarm object that still carries the run's label or the namespace of one
// of its stacks.
func leftovers(ctx context.Context, runID string) []string {
	return leftoversOf(ctx, "sample", runID)
}

// leftoversOf is leftovers for a run of recipe.
func leftoversOf(ctx context.Context, recipe, runID string) []string {
	var out []string
	var args []filters.Args
	args = append(args, filters.NewArgs(filters.Arg("label", v1.LabelRun+"="+runID)))
	for _, role := range []string{"", "up"} {
		stack := tiers.StackName(recipe, runID, role)
		args = append(args,
			filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace+"="+stack)),
			filters.NewArgs(filters.Arg("label", v1.LabelSecretOf+"="+stack)))
	}
	d := sw.Docker()
	for _, f := range args {
		services, err := d.ServiceList(ctx, dockerswarm.ServiceListOptions{Filters: f})
		Expect(err).NotTo(HaveOccurred())
		for _, s := range services {
			out = append(out, "service "+s.Spec.Name)
		}
		nets, err := d.NetworkList(ctx, network.ListOptions{Filters: f})
		Expect(err).NotTo(HaveOccurred())
		for _, n := range nets {
			out = append(out, "network "+n.Name)
		}
		vols, err := d.VolumeList(ctx, volume.ListOptions{Filters: f})
		Expect(err).NotTo(HaveOccurred())
		for _, v := range vols.Volumes {
			out = append(out, "volume "+v.Name)
		}
		secrets, err := d.SecretList(ctx, dockerswarm.SecretListOptions{Filters: f})
		Expect(err).NotTo(HaveOccurred())
		for _, s := range secrets {
			out = append(out, "secret "+s.Spec.Name)
		}
		configs, err := d.ConfigList(ctx, dockerswarm.ConfigListOptions{Filters: f})
		Expect(err).NotTo(HaveOccurred())
		for _, c := range configs {
			out = append(out, "config "+c.Spec.Name)
		}
	}
	return out
}

func tierResult(rec v1.Run, name v1.TierName) v1.TierResult {
	for _, t := range rec.Tiers {
		if t.Name == name {
			return t
		}
	}
	Fail("no result for tier " + string(name))
	return v1.TierResult{}
}

var _ = Describe("Runner.Run on Swarm", Label("integration"), func() {
	Context("when the sample version is healthy", func() {
		It("passes every tier, keeps logs and archive, and leaves nothing behind", func(ctx SpecContext) {
			spec := sampleSpec(
				v1.Tier{Name: v1.TierInstall},
				v1.Tier{Name: v1.TierUpgrade, From: v1.FromKnownGood},
				v1.Tier{Name: v1.TierBackup},
				v1.Tier{Name: v1.TierRestore},
				v1.Tier{Name: v1.TierCustom, When: &v1.TierCondition{FileExists: "compose.worker.yml"},
					Command: []string{"sh", "-c", `test "$TIER" = custom && test "$VERSION" = 1.1.0+1.1 && test "$BASE_VERSION" = 1.0.0+1.0 && test "$DOMAIN" = "$STACK_NAME.test.local" && test -f "$RECIPE_DIR/compose.worker.yml" && echo ok > "$ARTIFACTS_DIR/custom.txt"`}},
				v1.Tier{Name: v1.TierLint},
			)
			rec := run(ctx, source, "1.1.0+1.1", spec)
			for _, t := range rec.Tiers {
				Expect(t.Result).To(Equal(v1.ResultPassed), "tier %s: %s", t.Name, t.Reason)
			}
			Expect(rec.Tiers).To(HaveLen(6))
			Expect(rec.Verdict).To(Equal(v1.VerdictPassed))
			Expect(rec.Commit).To(HaveLen(40))

			By("storing the run record, the logs and the archive")
			runs, err := st.Runs("sample")
			Expect(err).NotTo(HaveOccurred())
			Expect(string(runs[0])).To(ContainSubstring(`"id": "` + rec.ID + `"`))
			dir, err := st.RunDir("sample", rec.ID)
			Expect(err).NotTo(HaveOccurred())
			for _, t := range rec.Tiers {
				Expect(filepath.Join(dir, t.LogFile)).To(BeARegularFile())
			}
			info, err := os.Stat(filepath.Join(dir, "artifacts", "backup.tar.gz"))
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Size()).To(BeNumerically(">", 0))
			Expect(filepath.Join(dir, "artifacts", "custom.txt")).To(BeARegularFile())

			By("leaving no service, network, volume, secret or config of the run")
			Eventually(leftovers).WithContext(ctx).WithArguments(rec.ID).
				WithTimeout(30 * time.Second).WithPolling(time.Second).Should(BeEmpty())
		}, NodeTimeout(5*time.Minute))
	})

	Context("when the sample version is unhealthy", func() {
		It("fails install on the healthcheck long before the timeout and skips the rest", func(ctx SpecContext) {
			timeout := 4 * time.Minute
			spec := sampleSpec(
				v1.Tier{Name: v1.TierInstall, Timeout: v1.Duration{Duration: timeout}},
				v1.Tier{Name: v1.TierUpgrade},
				v1.Tier{Name: v1.TierBackup},
				v1.Tier{Name: v1.TierRestore},
			)
			spec.Timeout = v1.Minutes(5)
			rec := run(ctx, source, "1.2.0+1.2", spec)
			install := tierResult(rec, v1.TierInstall)
			Expect(install.Result).To(Equal(v1.ResultFailed))
			// The cause, not a stopwatch: the healthcheck failed it, not the tier's timeout.
			Expect(strings.ToLower(install.Reason)).To(ContainSubstring("health"))
			Expect(install.Reason).NotTo(ContainSubstring("timed out"))
			for _, n := range []v1.TierName{v1.TierUpgrade, v1.TierBackup, v1.TierRestore} {
				Expect(tierResult(rec, n)).To(And(
					HaveField("Result", v1.ResultSkipped), HaveField("Reason", "install failed")))
			}
			Expect(rec.Verdict).To(Equal(v1.VerdictFailed))
			Eventually(leftovers).WithContext(ctx).WithArguments(rec.ID).
				WithTimeout(30 * time.Second).WithPolling(time.Second).Should(BeEmpty())
		}, NodeTimeout(7*time.Minute))
	})

	Context("when the backup path misses the app's data", func() {
		It("fails restore: a marker outside the volumes would prove nothing", func(ctx SpecContext) {
			By("building a variant of 1.1.0+1.1 that backs up /srv instead of its /data volume")
			variant := variantRepo(ctx)
			src, err := recipe.Open(ctx, "sample", variant, recipe.Options{CacheDir: filepath.Join(GinkgoT().TempDir(), "cache")})
			Expect(err).NotTo(HaveOccurred())

			rec := run(ctx, src, "1.1.1+1.1", sampleSpec(v1.Tier{Name: v1.TierInstall}, v1.Tier{Name: v1.TierRestore}))
			Expect(tierResult(rec, v1.TierInstall).Result).To(Equal(v1.ResultPassed))
			restore := tierResult(rec, v1.TierRestore)
			Expect(restore.Result).To(Equal(v1.ResultFailed))
			Expect(restore.Reason).To(ContainSubstring("the backup plan takes only path /srv of service app (not in a volume)"))
			Expect(restore.Reason).To(ContainSubstring("set spec.marker"))
			Eventually(leftovers).WithContext(ctx).WithArguments(rec.ID).
				WithTimeout(30 * time.Second).WithPolling(time.Second).Should(BeEmpty())
		}, NodeTimeout(5*time.Minute))
	})

	Context("when a custom tier is gated on a file the version lacks", func() {
		It("skips it with the gate as reason", func(ctx SpecContext) {
			rec := run(ctx, source, "1.0.0+1.0", sampleSpec(
				v1.Tier{Name: v1.TierCustom, Command: []string{"false"}, When: &v1.TierCondition{FileExists: "compose.worker.yml"}}))
			Expect(tierResult(rec, v1.TierInstall).Result).To(Equal(v1.ResultPassed))
			Expect(tierResult(rec, v1.TierCustom)).To(And(
				HaveField("Result", v1.ResultSkipped), HaveField("Reason", "gate: file compose.worker.yml absent")))
		}, NodeTimeout(5*time.Minute))
	})

	Context("when a custom command hangs", func() {
		It("kills it at the tier timeout and still tears down", func(ctx SpecContext) {
			rec := run(ctx, source, "1.0.0+1.0", sampleSpec(v1.Tier{Name: v1.TierInstall},
				v1.Tier{Name: v1.TierCustom, Command: []string{"sh", "-c", "sleep 600 & sleep 600"}, Timeout: v1.Duration{Duration: 2 * time.Second}}))
			custom := tierResult(rec, v1.TierCustom)
			Expect(custom).To(And(HaveField("Result", v1.ResultFailed), HaveField("Reason", "timed out after 2s")))
			Eventually(leftovers).WithContext(ctx).WithArguments(rec.ID).
				WithTimeout(30 * time.Second).WithPolling(time.Second).Should(BeEmpty())
		}, NodeTimeout(5*time.Minute))
	})

	Context("when the process running a run is killed", func() {
		It("leaves a stack that CollectGarbage removes", func(ctx SpecContext) {
			runID := tiers.NewRunID()
			stack := tiers.StackName("sample", runID, "")
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), envCrashChild+"=1", envRepo+"="+repo, envCache+"="+cache,
				envSuite+"="+suiteID, envRunID+"="+runID, envRunDir+"="+GinkgoT().TempDir())
			cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
			// The child must not outlive a test binary that dies (a go test timeout, say).
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			Expect(cmd.Start()).To(Succeed())
			DeferCleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

			By("waiting until the child's stack converged, then killing the child")
			Eventually(func(ctx context.Context) bool {
				s, err := sw.ObserveStack(ctx, stack)
				return err == nil && len(s.Services) > 0 && s.Converged()
			}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeTrue())
			Expect(cmd.Process.Kill()).To(Succeed())
			_ = cmd.Wait()
			Expect(leftovers(ctx, runID)).NotTo(BeEmpty(), "the killed run left its stack")

			By("collecting garbage as a restarted process would")
			Expect(runner.CollectGarbage(ctx)).To(Succeed())
			Eventually(leftovers).WithContext(ctx).WithArguments(runID).
				WithTimeout(30 * time.Second).WithPolling(time.Second).Should(BeEmpty())
		}, NodeTimeout(5*time.Minute))
	})
})

// crashChild is the child process of the crash spec: it starts a run whose custom tier sleeps
// long after install, and waits to be killed.
func crashChild() {
	ctx := context.Background()
	sw, err := swarm.NewClient()
	if err != nil {
		panic(err)
	}
	src, err := recipe.Open(ctx, "sample", os.Getenv(envRepo), recipe.Options{CacheDir: os.Getenv(envCache)})
	if err != nil {
		panic(err)
	}
	r := tiers.NewRunner(sw, tiers.Options{Labels: map[string]string{v1.LabelTestSuite: os.Getenv(envSuite)}})
	rt := v1.RecipeTest{Metadata: v1.ObjectMeta{Name: "sample"}, Spec: v1.RecipeTestSpec{
		Tiers: []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierCustom, Command: []string{"sleep", "600"}}},
	}}
	rt.Default()
	_, err = r.Run(ctx, tiers.Request{RunID: os.Getenv(envRunID), Spec: rt.Spec, Source: src, Ref: "1.0.0+1.0", RunDir: os.Getenv(envRunDir)})
	if err != nil {
		panic(err)
	}
	_ = r.WaitTeardowns(ctx)
	os.Exit(0)
}

// variantRepo makes a git repository with one tag, 1.1.1+1.1: the sample's 1.1.0+1.1 tree
// whose backup path is /srv (created by the pre-hook) instead of the /data volume.
func variantRepo(ctx context.Context) string {
	dir := filepath.Join(GinkgoT().TempDir(), "variant")
	src := filepath.Join(fixtures.RepoRoot(), "config", "sample-recipe", "1.1.0+1.1")
	Expect(exec.CommandContext(ctx, "cp", "-a", src, dir).Run()).To(Succeed())
	compose := filepath.Join(dir, "compose.yml")
	data, err := os.ReadFile(compose)
	Expect(err).NotTo(HaveOccurred())
	s := string(data)
	for old, repl := range map[string]string{
		"backupbot.backup.path=/data":                "backupbot.backup.path=/srv",
		"backupbot.backup.pre-hook=/app state flush": "backupbot.backup.pre-hook=/app touch /srv/keep",
		"version=1.1.0+1.1":                          "version=1.1.1+1.1",
	} {
		Expect(s).To(ContainSubstring(old))
		s = strings.ReplaceAll(s, old, repl)
	}
	Expect(os.WriteFile(compose, []byte(s), 0o644)).To(Succeed())
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=ccci", "-c", "user.email=ccci@example.org", "commit", "-q", "-m", "backup /srv"},
		{"tag", "1.1.1+1.1"},
	} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
	}
	return dir
}
