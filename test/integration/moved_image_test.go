//go:build integration

package integration

import (
	"context"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// A tag re-pushed to its registry with other bytes after its version was tested and promoted.
var _ = Describe("an image re-pushed under a tested tag", func() {
	// promoted publishes 1.1.0+1.1 with its image in a fresh registry, promotes it with a sweep
	// and returns the world, the registry, the image and the digest the warm app runs.
	promoted := func(ctx context.Context, extra ...string) (*world, *fixtures.Registry, string, string) {
		reg, err := fixtures.StartRegistry(ctx, GinkgoT().TempDir(), "", "")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(reg.Stop)
		ref, err := reg.Push(ctx, "", fixtures.SampleImage("1.1"), "sample-"+randomID()+":1.1")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(reg.RemoveLocalRefs, NodeTimeout(time.Minute))
		w := newWorld()
		w.writeRecipeTest()
		w.publish(ctx, tag11, tag11, func(c string) string {
			return strings.Replace(c, "image: "+fixtures.SampleImage("1.1"), "image: "+ref, 1)
		})
		w.writeWarmCanonical(tag11, extra...)
		action, code := w.sweepAction(ctx)
		Expect(action).To(Equal("PROMOTED"))
		Expect(code).To(Equal(0))
		digest := w.runs()[0].CandidateDigests()[ref]
		Expect(digest).To(HavePrefix("sha256:"))
		Expect(w.serviceImage(ctx, "app")).To(Equal(ref+"@"+digest), "the warm app runs the tested digest")
		return w, reg, ref, digest
	}
	repush := func(ctx context.Context, reg *fixtures.Registry, ref string) {
		Expect(fixtures.BuildVariant(ctx, fixtures.SampleImage("1.1"), ref, randomID())).To(Succeed())
		_, err := reg.Push(ctx, "", ref, strings.TrimPrefix(ref, reg.Addr+"/"))
		Expect(err).NotTo(HaveOccurred())
	}

	It("is tested again with spec.images: follow, and promoted by its new digest once it passed", func(ctx SpecContext) {
		w, reg, ref, old := promoted(ctx)
		repush(ctx, reg, ref)
		action, code := w.sweepAction(ctx)
		Expect(code).To(Equal(0))
		Expect(action).To(Equal("PROMOTED"))
		runs := w.runs()
		Expect(runs).To(HaveLen(2), "a new run for the moved image")
		now := runs[0].CandidateDigests()[ref]
		Expect(now).NotTo(BeEmpty())
		Expect(now).NotTo(Equal(old))
		Expect(w.serviceImage(ctx, "app")).To(Equal(ref + "@" + now))
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
	}, NodeTimeout(8*time.Minute))

	It("keeps the warm app at the tested digest while the re-pushed image's run is red, and removes the image that run pulled", func(ctx SpecContext) {
		w, reg, ref, old := promoted(ctx)
		By("re-pushing the tag with an image whose app exits at once, and removing it here")
		Expect(fixtures.BuildVariant(ctx, fixtures.SampleImage("1.1"), ref, randomID(), `CMD ["version"]`)).To(Succeed())
		_, err := reg.Push(ctx, "", ref, strings.TrimPrefix(ref, reg.Addr+"/"))
		Expect(err).NotTo(HaveOccurred())
		Expect(fixtures.RemoveLocal(ctx, ref)).To(Succeed())
		action, code := w.sweepAction(ctx)
		Expect(code).To(Equal(1))
		Expect(action).To(Equal("FAILED"))
		runs := w.runs()
		Expect(runs).To(HaveLen(2), "a new run for the moved image")
		Expect(runs[0].Verdict).To(Equal(v1.VerdictFailed))
		red := runs[0].CandidateDigests()[ref]
		Expect(red).To(HavePrefix("sha256:"))
		Expect(red).NotTo(Equal(old))

		By("reading Swarm and the engine: the warm app still runs the tested digest, whose image stays; the red one's is gone")
		Expect(w.serviceImage(ctx, "app")).To(Equal(ref + "@" + old))
		Expect(w.deployedVersion(ctx)).To(Equal(tag11))
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
		name := strings.TrimSuffix(ref, ":1.1")
		Expect(imageID(ctx, name+"@"+old)).NotTo(BeEmpty())
		Expect(imageID(ctx, name+"@"+red)).To(BeEmpty())
	}, NodeTimeout(8*time.Minute))

	It("keeps the tested digest with spec.images: pinned and reports the move", func(ctx SpecContext) {
		w, reg, ref, old := promoted(ctx, "images: pinned")
		repush(ctx, reg, ref)
		action, code := w.sweepAction(ctx)
		Expect(code).To(Equal(0))
		Expect(action).To(Equal("CONVERGED"))
		Expect(w.runs()).To(HaveLen(1), "no run starts")
		Expect(w.serviceImage(ctx, "app")).To(Equal(ref + "@" + old))
		c, _ := w.status().Conditions.Get("Ready")
		Expect(c.Message).To(And(ContainSubstring("image "+ref+" moved from "+old), ContainSubstring("since it was tested")))
	}, NodeTimeout(8*time.Minute))
})
