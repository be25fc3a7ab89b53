package tiers_test

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// A run resolves its images once, before its first deploy; the integration suite proves the
// same against a real registry.
var _ = Describe("Runner.Run resolving images", func() {
	var (
		fake *fakeSwarm
		r    *tiers.Runner
		req  tiers.Request
	)

	BeforeEach(func() {
		fake = newFakeSwarm()
		r = tiers.NewRunner(fake, tiers.Options{})
		spec := v1.RecipeTestSpec{Recipe: "sample", Timeout: v1.Minutes(1), Tiers: []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierUpgrade}}}
		req = tiers.Request{RunID: tiers.NewRunID(), Spec: spec, Source: treeSource{}, Ref: "1.1.0+1.1", KnownGood: "1.0.0+1.0", RunDir: GinkgoT().TempDir()}
	})

	It("records candidate and base images and deploys them pinned", func(ctx SpecContext) {
		run, err := r.Run(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.WaitTeardowns(ctx)).To(Succeed())
		Expect(run.Verdict).To(Equal(v1.VerdictPassed), run.Message)
		cand := fixtures.SampleImage("1.1")
		Expect(run.Images).To(ContainElement(And(
			HaveField("Role", v1.ImageCandidate), HaveField("Service", "app"), HaveField("Image", cand), HaveField("Digest", HavePrefix("sha256:")))))
		Expect(run.Images).To(ContainElement(And(HaveField("Role", v1.ImageBase), HaveField("Image", fixtures.SampleImage("1.0")))))
		main := tiers.StackName("sample", req.RunID, "")
		Expect(fake.pinned[main]).To(HaveKeyWithValue(cand, swarm.PinnedRef(cand, run.CandidateDigests()[cand])))
	}, NodeTimeout(30*time.Second))

	It("aborts before any deploy when the registry fails, naming it", func(ctx SpecContext) {
		fake.imageErrs = map[string]error{fixtures.SampleImage("1.0"): &swarm.RegistryError{
			Kind: swarm.RegistryRateLimited, Registry: "docker.io", Image: fixtures.SampleImage("1.0"), Err: errors.New("toomanyrequests: slow down")}}
		run, err := r.Run(ctx, req)
		Expect(err).To(HaveOccurred())
		Expect(run.Verdict).To(Equal(v1.VerdictAborted))
		Expect(run.Message).To(And(ContainSubstring("registry docker.io rate limited"), ContainSubstring(fixtures.SampleImage("1.0"))))
		Expect(fake.deploys).To(BeEmpty())
	}, NodeTimeout(30*time.Second))

	It("fails install without deploying when the candidate's tag does not exist", func(ctx SpecContext) {
		cand := fixtures.SampleImage("1.1")
		fake.imageErrs = map[string]error{cand: &swarm.RegistryError{
			Kind: swarm.RegistryNotFound, Registry: "docker.io", Image: cand, Err: errors.New("manifest unknown")}}
		run, err := r.Run(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.WaitTeardowns(ctx)).To(Succeed())
		Expect(run.Verdict).To(Equal(v1.VerdictFailed))
		Expect(reasonOf(run, v1.TierInstall)).To(And(ContainSubstring("service app"), ContainSubstring(cand), ContainSubstring("tag not found")))
		Expect(fake.deploys).To(BeEmpty())
	}, NodeTimeout(30*time.Second))
})
