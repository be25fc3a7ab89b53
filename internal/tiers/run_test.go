package tiers_test

import (
	"context"
	"io"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// Orchestration of a run against fakes: which tiers run, on which stack, with which verdict,
// and that teardown always happens. The integration suite proves the same on a real Swarm.
var _ = Describe("Runner.Run with a fake Swarm", func() {
	var (
		fake *fakeSwarm
		r    *tiers.Runner
		req  tiers.Request
	)

	BeforeEach(func() {
		fake = newFakeSwarm()
		r = tiers.NewRunner(fake, tiers.Options{})
		spec := v1.RecipeTestSpec{Recipe: "sample", Timeout: v1.Minutes(1), Env: map[string]string{"DOMAIN": "{{ .Stack }}.test.local"}}
		spec.Tiers = append(v1.DefaultTiers(), v1.Tier{Name: v1.TierLint}, v1.Tier{Name: v1.TierCustom, Command: []string{"sh", "-c", `test -n "$STACK_NAME" && test "$DOMAIN" = "$STACK_NAME.test.local"`}})
		req = tiers.Request{RunID: tiers.NewRunID(), Spec: spec, Source: treeSource{}, Ref: "1.1.0+1.1", KnownGood: "1.0.0+1.0", RunDir: GinkgoT().TempDir()}
	})

	Context("when the candidate is healthy", func() {
		It("passes every tier with four deploys and removes both stacks", func(ctx SpecContext) {
			var events []tiers.ProgressEvent
			req.Progress = func(ev tiers.ProgressEvent) { events = append(events, ev) }
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"lint:Passed", "install:Passed", "custom:Passed", "backup:Passed", "restore:Passed", "upgrade:Passed"}), "%+v", run.Tiers)
			Expect(run.Verdict).To(Equal(v1.VerdictPassed))
			Expect(run.Version).To(Equal("1.1.0+1.1"))
			Expect(run.BaseVersion).To(Equal("1.0.0+1.0"))
			Expect(run.FinishedAt).NotTo(BeNil())

			main := tiers.StackName("sample", req.RunID, "")
			up := tiers.StackName("sample", req.RunID, "up")
			Expect(fake.deploys).To(ConsistOf(main+"@1.1.0+1.1", main+"@1.1.0+1.1", up+"@1.0.0+1.0", up+"@1.1.0+1.1"))
			Expect(fake.deploys[0]).To(Equal(main+"@1.1.0+1.1"), "install comes first")
			Expect(fake.stacks).To(BeEmpty(), "teardown removed every stack")
			Expect(fake.removed).To(ContainElements(main, up))

			By("writing a log per tier and the archives")
			for _, t := range run.Tiers {
				Expect(filepath.Join(req.RunDir, t.LogFile)).To(BeARegularFile())
			}
			Expect(filepath.Join(req.RunDir, "artifacts", "backup.tar.gz")).To(BeARegularFile())
			Expect(filepath.Join(req.RunDir, "artifacts", "backup.tar.gz.sha256")).To(BeARegularFile())
			Expect(reasonOf(run, v1.TierBackup)).To(MatchRegexp(`sha256 [0-9a-f]{64}`))

			By("reporting each tier's start and end")
			Expect(events).To(HaveLen(12))
			Expect(events[len(events)-1].Run.Tiers).To(HaveLen(6))
		}, NodeTimeout(30*time.Second))
	})

	Context("when install fails", func() {
		It("skips the tiers that need it and still removes the stack", func(ctx SpecContext) {
			fake.unhealthy["1.1.0+1.1"] = true
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"lint:Passed", "install:Failed", "custom:Skipped", "backup:Skipped", "restore:Skipped", "upgrade:Skipped"}))
			Expect(reasonOf(run, v1.TierInstall)).To(ContainSubstring("healthcheck"))
			Expect(reasonOf(run, v1.TierBackup)).To(Equal("install failed"))
			Expect(run.Verdict).To(Equal(v1.VerdictFailed))
			Expect(fake.stacks).To(BeEmpty())
		}, NodeTimeout(30*time.Second))
	})

	Context("when the backup misses the data", func() {
		It("fails restore with marker lost", func(ctx SpecContext) {
			fake.files = map[string]map[string]string{}
			// The marker goes to /data; a fake whose copies lose /data on redeploy but keep
			// nothing else stands in for a backup path outside the volume.
			req.Spec.Tiers = []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierRestore}}
			wrapped := &losingSwarm{fakeSwarm: fake}
			run, err := tiers.NewRunner(wrapped, tiers.Options{}).Run(ctx, req)
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"install:Passed", "restore:Failed"}))
			Expect(reasonOf(run, v1.TierRestore)).To(HavePrefix("marker lost"))
		}, NodeTimeout(30*time.Second))
	})

	Context("when the engine fails under the run", func() {
		It("aborts the run, naming the engine, instead of judging the recipe", func(ctx SpecContext) {
			fake.engineCut = true
			req.Spec.Tiers = []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierBackup}}
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(run.Verdict).To(Equal(v1.VerdictAborted))
			Expect(run.Message).To(HavePrefix("the Docker engine failed during install: "))
			Expect(reasonOf(run, v1.TierBackup)).To(HavePrefix("run aborted: the Docker engine failed"))
		}, NodeTimeout(10*time.Second))
	})

	Context("when a tier outlives its timeout", func() {
		It("fails it as timed out and goes on to teardown", func(ctx SpecContext) {
			fake.hang["1.0.0+1.0"] = true
			req.Spec.Tiers = []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierUpgrade, From: v1.FromKnownGood, Timeout: v1.Duration{Duration: 300 * time.Millisecond}}}
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"install:Passed", "upgrade:Failed"}))
			Expect(reasonOf(run, v1.TierUpgrade)).To(Equal("timed out after 300ms"))
			Expect(run.Verdict).To(Equal(v1.VerdictFailed))
			Expect(fake.stacks).To(BeEmpty())
		}, NodeTimeout(30*time.Second))

		It("kills a hanging custom command at its timeout", func(ctx SpecContext) {
			req.Spec.Tiers = []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierCustom, Command: []string{"sleep", "300"}, Timeout: v1.Duration{Duration: 500 * time.Millisecond}}}
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Failed"}))
			Expect(reasonOf(run, v1.TierCustom)).To(Equal("timed out after 500ms"))
		}, NodeTimeout(30*time.Second))
	})

	Context("when the run is cancelled", func() {
		It("aborts and still removes the stacks", func(ctx SpecContext) {
			fake.hang["1.1.0+1.1"] = true
			runCtx, cancel := context.WithCancel(ctx)
			time.AfterFunc(300*time.Millisecond, cancel)
			run, err := r.Run(runCtx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(run.Verdict).To(Equal(v1.VerdictAborted))
			Expect(reasonOf(run, v1.TierUpgrade)).To(HavePrefix("run aborted"))
			Expect(fake.stacks).To(BeEmpty())
		}, NodeTimeout(30*time.Second))
	})

	Context("when the spec keeps failed stacks", func() {
		It("leaves the failed run's stack in place", func(ctx SpecContext) {
			fake.unhealthy["1.1.0+1.1"] = true
			req.Spec.KeepFailedStacks = true
			_, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(fake.stacks).To(HaveKey(tiers.StackName("sample", req.RunID, "")))
		}, NodeTimeout(30*time.Second))
	})

	Context("when the env template is wrong", func() {
		It("aborts before deploying anything, naming the key", func(ctx SpecContext) {
			req.Spec.Env = map[string]string{"DOMAIN": "{{ .Stak }}.test.local"}
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).To(MatchError(ContainSubstring(`unknown key "Stak"`)))
			Expect(run.Verdict).To(Equal(v1.VerdictAborted))
			Expect(fake.deploys).To(BeEmpty())
		}, NodeTimeout(30*time.Second))
	})

	Context("when a custom tier is gated on a file", func() {
		It("runs it where the file exists and skips it elsewhere", func(ctx SpecContext) {
			gated := v1.Tier{Name: v1.TierCustom, Command: []string{"true"}, When: &v1.TierCondition{FileExists: "compose.worker.yml"}}
			req.Spec.Tiers = []v1.Tier{{Name: v1.TierInstall}, gated}
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Passed"}))

			req.Ref, req.RunID = "1.0.0+1.0", tiers.NewRunID()
			run, err = r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Skipped"}))
			Expect(reasonOf(run, v1.TierCustom)).To(Equal("gate: file compose.worker.yml absent"))
		}, NodeTimeout(30*time.Second))
	})
})

var _ = Describe("Runner.CollectGarbage with a fake Swarm", func() {
	It("removes run stacks that no run of this process owns", func(ctx SpecContext) {
		fake := newFakeSwarm()
		fake.labelled = []string{"ccci_sample_dead", "ccci_sample_other"}
		r := tiers.NewRunner(fake, tiers.Options{})
		Expect(r.CollectGarbage(ctx)).To(Succeed())
		Expect(fake.removed).To(ConsistOf("ccci_sample_dead", "ccci_sample_other"))
	}, NodeTimeout(10*time.Second))

	It("leaves a run whose lease another process holds", func(ctx SpecContext) {
		fake := newFakeSwarm()
		fake.labelled = []string{"ccci_sample_dead", "ccci_sample_elsewhere"}
		r := tiers.NewRunner(fake, tiers.Options{Leases: heldLeases{"ccci_sample_elsewhere": true}})
		Expect(r.CollectGarbage(ctx)).To(Succeed())
		Expect(fake.removed).To(ConsistOf("ccci_sample_dead"))
	}, NodeTimeout(10*time.Second))
})

// losingSwarm loses /data when a stack is redeployed after removal, whatever the archive said,
// as Swarm does when the backup paths do not cover the volume.
type losingSwarm struct {
	*fakeSwarm
	removedOnce bool
}

func (l *losingSwarm) RemoveData(ctx context.Context, stack string) error {
	l.removedOnce = true
	return l.fakeSwarm.RemoveData(ctx, stack)
}

func (l *losingSwarm) CopyTo(ctx context.Context, stack, service, dst string, r io.Reader) error {
	if l.removedOnce {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	return l.fakeSwarm.CopyTo(ctx, stack, service, dst, r)
}

// heldLeases are leases other processes hold, by run id.
type heldLeases map[string]bool

func (h heldLeases) HoldLease(string) (func(), error)   { return func() {}, nil }
func (h heldLeases) LeaseHeld(run string) (bool, error) { return h[run], nil }
