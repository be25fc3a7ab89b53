package tiers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// The images a run pulled are removed after its teardown; the integration suite proves what
// stays and what goes against a real engine and registry.
var _ = Describe("Runner.Run removing the images it pulled", func() {
	var (
		fake    *fakeSwarm
		req     tiers.Request
		counted []int64
	)

	BeforeEach(func() {
		fake = newFakeSwarm()
		counted = nil
		spec := v1.RecipeTestSpec{Recipe: "sample", Timeout: v1.Minutes(1), Tiers: []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierUpgrade}}}
		req = tiers.Request{RunID: tiers.NewRunID(), Spec: spec, Source: treeSource{}, Ref: "1.1.0+1.1", KnownGood: "1.0.0+1.0", RunDir: GinkgoT().TempDir()}
	})
	run := func(ctx SpecContext, opts tiers.Options) v1.Run {
		opts.ImagesRemoved = func(images int, bytes int64) { counted = append(counted, int64(images), bytes) }
		r := tiers.NewRunner(fake, opts)
		rec, err := r.Run(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.WaitTeardowns(ctx)).To(Succeed())
		return rec
	}

	It("notes the nodes' images before the first deploy and removes the run's after its stacks are gone", func(ctx SpecContext) {
		rec := run(ctx, tiers.Options{})
		Expect(rec.Verdict).To(Equal(v1.VerdictPassed), rec.Message)
		Expect(fake.snapshots).To(Equal(1))
		Expect(fake.early).To(Equal(1), "the snapshot comes before any deploy")
		Expect(fake.cleanups).To(ConsistOf(ConsistOf(fixtures.SampleImage("1.1"), fixtures.SampleImage("1.0"))))
		Expect(fake.stacksLeft).To(Equal([]int{0}), "every stack of the run was removed first")
		Expect(counted).To(Equal([]int64{2, 200}))
	}, NodeTimeout(30*time.Second))

	It("keeps a passed promotion run's candidate images, which the promotion deploys next", func(ctx SpecContext) {
		req.Trigger = v1.TriggerPromotion
		rec := run(ctx, tiers.Options{})
		Expect(rec.Verdict).To(Equal(v1.VerdictPassed), rec.Message)
		Expect(fake.cleanups).To(ConsistOf(ConsistOf(fixtures.SampleImage("1.0"))), "only the base's")
	}, NodeTimeout(30*time.Second))

	It("removes none with KeepTestImages", func(ctx SpecContext) {
		run(ctx, tiers.Options{KeepTestImages: true})
		Expect(fake.snapshots).To(BeZero())
		Expect(fake.cleanups).To(BeEmpty())
		Expect(counted).To(BeEmpty())
	}, NodeTimeout(30*time.Second))

	It("removes none while spec.keepFailedStacks keeps a failed run's stacks, which use them", func(ctx SpecContext) {
		fake.unhealthy["1.1.0+1.1"] = true
		req.Spec.KeepFailedStacks = true
		rec := run(ctx, tiers.Options{})
		Expect(rec.Verdict).To(Equal(v1.VerdictFailed))
		Expect(fake.cleanups).To(BeEmpty())
	}, NodeTimeout(30*time.Second))
})
