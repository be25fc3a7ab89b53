//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// maintainerGit is the git of a recipe maintainer, identity and all.
var maintainerGit = []string{"-c", "user.name=maintainer", "-c", "user.email=m@example.org", "-c", "tag.gpgSign=false", "-c", "commit.gpgSign=false"}

// publish releases tag as a maintainer would: a commit on top of base whose compose.yml is
// edit's result, tagged and pushed to the recipe's origin (force-moving tag when it exists). It
// returns the new commit.
func (w *world) publish(ctx context.Context, base, tag string, edit func(compose string) string) string {
	work := filepath.Join(w.dir, "maintainer-"+tag)
	gitIn(ctx, w.dir, "clone", "-q", "--branch", base, w.recipe, work)
	compose := filepath.Join(work, "compose.yml")
	data, err := os.ReadFile(compose)
	Expect(err).NotTo(HaveOccurred())
	edited := edit(string(data))
	Expect(edited).NotTo(Equal(string(data)), "the release changes compose.yml")
	Expect(os.WriteFile(compose, []byte(edited), 0o644)).To(Succeed())
	gitIn(ctx, work, append(maintainerGit, "commit", "-qam", "chore: publish "+tag+" release")...)
	gitIn(ctx, work, append(maintainerGit, "tag", "-f", "-a", "-m", "release", tag)...)
	gitIn(ctx, work, "push", "-q", "--force", "origin", "refs/tags/"+tag)
	return gitIn(ctx, w.recipe, "rev-parse", tag+"^{commit}")
}

var _ = Describe("a tag moved after it was tested", func() {
	It("is tested again at its new commit, and only that commit is promoted", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()

		By("testing 1.1.0+1.1 by hand: it passes")
		_, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
		Expect(code).To(Equal(0))
		first := w.runs()
		Expect(first).To(HaveLen(1))
		Expect(first[0].Verdict).To(Equal(v1.VerdictPassed))
		oldCommit := first[0].Commit

		By("moving the tag to a new commit that runs another image, as a maintainer force-pushing a tag")
		newCommit := w.publish(ctx, tag11, tag11, func(c string) string {
			return strings.Replace(c, "image: "+fixtures.SampleImage("1.1"), "image: "+fixtures.SampleImage("1.0"), 1)
		})
		Expect(newCommit).NotTo(Equal(oldCommit))

		By("asking for 1.1.0+1.1 a moment later: the sweep fetches afresh and tests the new commit")
		w.writeWarmCanonical(tag11)
		action, code := w.sweepAction(ctx)
		Expect(action).To(Equal("PROMOTED"))
		Expect(code).To(Equal(0))
		runs := w.runs()
		Expect(runs).To(HaveLen(2), "a second run, for the moved tag")
		Expect(runs[0].Commit).To(Equal(newCommit))
		Expect(runs[0].Verdict).To(Equal(v1.VerdictPassed))
		Expect(runs[0].Trigger).To(Equal(v1.TriggerPromotion))

		By("reading Swarm: the warm app runs the new commit's image at 1.1.0+1.1")
		Expect(w.deployedVersion(ctx)).To(Equal(tag11))
		Expect(w.serviceImage(ctx, "app")).To(Equal(fixtures.SampleImage("1.0")))
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
	}, NodeTimeout(5*time.Minute))
})
