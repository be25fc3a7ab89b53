//go:build integration

package integration

import (
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
		work := filepath.Join(w.dir, "maintainer")
		gitIn(ctx, w.dir, "clone", "-q", "--branch", tag11, w.recipe, work)
		compose := filepath.Join(work, "compose.yml")
		data, err := os.ReadFile(compose)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring("image: " + fixtures.SampleImage("1.1")))
		Expect(os.WriteFile(compose, []byte(strings.Replace(string(data), "image: "+fixtures.SampleImage("1.1"), "image: "+fixtures.SampleImage("1.0"), 1)), 0o644)).To(Succeed())
		gitIn(ctx, work, append(maintainerGit, "commit", "-qam", "chore: rebuild 1.1.0+1.1")...)
		gitIn(ctx, work, append(maintainerGit, "tag", "-f", "-a", "-m", "re-release", tag11)...)
		gitIn(ctx, work, "push", "-q", "--force", "origin", "refs/tags/"+tag11)
		newCommit := gitIn(ctx, w.recipe, "rev-parse", tag11+"^{commit}")
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
