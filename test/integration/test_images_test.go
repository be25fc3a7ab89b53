//go:build integration

package integration

import (
	"context"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// imageID is the ID of the engine's image ref, "" when the engine has no such image, read
// through the Docker client.
func imageID(ctx context.Context, ref string) string {
	img, err := docker.ImageInspect(ctx, ref)
	if errdefs.IsNotFound(err) {
		return ""
	}
	Expect(err).NotTo(HaveOccurred())
	return img.ID
}

// A run's images are removed from the engine after its teardown, unless they were there
// before or something uses them.
var _ = Describe("the images a test run pulled", func() {
	It("are gone after the run, while an image present before stays; --keep-test-images keeps them", func(ctx SpecContext) {
		reg, err := fixtures.StartRegistry(ctx, GinkgoT().TempDir(), "", "")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(reg.Stop)
		DeferCleanup(reg.RemoveLocalRefs, NodeTimeout(time.Minute))
		id := randomID()

		By("pushing the candidate's image and removing it here, so the run has to pull it")
		pulled := reg.Addr + "/pulled-" + id + ":1.1"
		Expect(fixtures.BuildVariant(ctx, fixtures.SampleImage("1.1"), pulled, id)).To(Succeed())
		_, err = reg.Push(ctx, "", pulled, strings.TrimPrefix(pulled, reg.Addr+"/"))
		Expect(err).NotTo(HaveOccurred())
		Expect(fixtures.RemoveLocal(ctx, pulled)).To(Succeed())
		Expect(imageID(ctx, pulled)).To(BeEmpty())

		By("pushing the upgrade base's image and keeping it here: it is present before the run")
		present := reg.Addr + "/present-" + id + ":1.0"
		Expect(fixtures.BuildVariant(ctx, fixtures.SampleImage("1.0"), present, id)).To(Succeed())
		_, err = reg.Push(ctx, "", present, strings.TrimPrefix(present, reg.Addr+"/"))
		Expect(err).NotTo(HaveOccurred())
		presentID := imageID(ctx, present)
		Expect(presentID).NotTo(BeEmpty())

		w := newWorld()
		w.writeRecipeTest("- name: install", "- name: upgrade\n  from: previous")
		w.publish(ctx, tag10, tag10, func(c string) string {
			return strings.Replace(c, "image: "+fixtures.SampleImage("1.0"), "image: "+present, 1)
		})
		w.publish(ctx, tag11, tag11, func(c string) string {
			return strings.Replace(c, "image: "+fixtures.SampleImage("1.1"), "image: "+pulled, 1)
		})

		By("a passed run: the image it pulled is gone, the one present before is still there")
		_, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
		Expect(code).To(Equal(0))
		runs := w.runs()
		Expect(runs[0].Verdict).To(Equal(v1.VerdictPassed))
		digest := runs[0].CandidateDigests()[pulled]
		Expect(digest).To(HavePrefix("sha256:"))
		Expect(imageID(ctx, strings.TrimSuffix(pulled, ":1.1")+"@"+digest)).To(BeEmpty())
		Expect(imageID(ctx, pulled)).To(BeEmpty())
		Expect(imageID(ctx, present)).To(Equal(presentID))

		By("the same run with --keep-test-images: the image it pulled stays")
		_, _, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11, "--keep-test-images")
		Expect(code).To(Equal(0))
		Expect(w.runs()[0].Verdict).To(Equal(v1.VerdictPassed))
		Expect(imageID(ctx, strings.TrimSuffix(pulled, ":1.1")+"@"+digest)).NotTo(BeEmpty())
		Expect(imageID(ctx, present)).To(Equal(presentID))
	}, NodeTimeout(8*time.Minute))
})
