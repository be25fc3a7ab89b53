//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// A recipe whose image lives in a real registry (Debian's docker-registry on a loopback port).
var _ = Describe("a recipe's image in a registry", func() {
	It("aborts the run while the registry is down, passes once it is back, and fails install at once on a missing tag", func(ctx SpecContext) {
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

		By("stopping the registry: the run is Aborted, naming it, and trigger exits non-zero")
		reg.Stop()
		out, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
		Expect(code).NotTo(Equal(0))
		Expect(strings.ToLower(out + errOut)).To(ContainSubstring("aborted"))
		runs := w.runs()
		Expect(runs).To(HaveLen(1))
		Expect(runs[0].Verdict).To(Equal(v1.VerdictAborted))
		Expect(runs[0].Message).To(And(ContainSubstring("registry "+reg.Addr), ContainSubstring(ref)))
		Expect(runs[0].Tiers).To(BeEmpty(), "nothing was deployed")

		By("starting it again: the run passes with the registry's digest")
		Expect(reg.Start(ctx)).To(Succeed())
		_, _, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
		Expect(code).To(Equal(0))
		runs = w.runs()
		Expect(runs[0].Verdict).To(Equal(v1.VerdictPassed))
		digests, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{json .RepoDigests}}", ref).Output()
		Expect(err).NotTo(HaveOccurred())
		Expect(runs[0].Images).To(ContainElement(And(HaveField("Service", "app"), HaveField("Image", ref))))
		Expect(string(digests)).To(ContainSubstring(runs[0].CandidateDigests()[ref]))

		By("moving the tag to an image tag the registry lacks: install fails at once, naming it")
		missing := strings.TrimSuffix(ref, ":1.1") + ":nope"
		Expect(os.RemoveAll(filepath.Join(w.dir, "maintainer-"+tag11))).To(Succeed()) // publish clones afresh
		w.publish(ctx, tag11, tag11, func(c string) string { return strings.Replace(c, "image: "+ref, "image: "+missing, 1) })
		_, _, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
		Expect(code).To(Equal(1))
		runs = w.runs()
		Expect(runs[0].Verdict).To(Equal(v1.VerdictFailed))
		Expect(runs[0].Tiers).To(HaveLen(1))
		install := runs[0].Tiers[0]
		Expect(install.Reason).To(And(ContainSubstring("service app"), ContainSubstring(missing), ContainSubstring("not found")))
		Expect(install.Duration.Duration).To(BeNumerically("<", 5*time.Second))
	}, NodeTimeout(10*time.Minute))

	It("aborts a run whose registry stops while it runs, naming it", func(ctx SpecContext) {
		reg, err := fixtures.StartRegistry(ctx, GinkgoT().TempDir(), "", "")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(reg.Stop)
		DeferCleanup(reg.RemoveLocalRefs, NodeTimeout(time.Minute))
		id := randomID()
		By("pushing the upgrade base's image and removing it here: the upgrade tier has to pull it")
		base := reg.Addr + "/base-" + id + ":1.0"
		Expect(fixtures.BuildVariant(ctx, fixtures.SampleImage("1.0"), base, id)).To(Succeed())
		_, err = reg.Push(ctx, "", base, strings.TrimPrefix(base, reg.Addr+"/"))
		Expect(err).NotTo(HaveOccurred())
		Expect(fixtures.RemoveLocal(ctx, base)).To(Succeed())
		w := newWorld()
		w.writeRecipeTest("- name: install", "- name: upgrade\n  from: previous")
		w.publish(ctx, tag10, tag10, func(c string) string {
			return strings.Replace(c, "image: "+fixtures.SampleImage("1.0"), "image: "+base, 1)
		})

		By("stopping the registry once install deployed, after every image was resolved and before upgrade deploys its base")
		stopped := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(stopped)
			f := filters.NewArgs(filters.Arg("label", v1.LabelRun), filters.Arg("label", v1.LabelTestSuite+"="+suiteID))
			Eventually(func() int {
				services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
				if err != nil {
					return 0
				}
				return len(services)
			}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(100 * time.Millisecond).Should(BeNumerically(">", 0))
			reg.Stop()
		}()
		_, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
		<-stopped
		Expect(code).NotTo(Equal(0))
		Expect(strings.ToLower(errOut)).To(ContainSubstring("aborted"))
		runs := w.runs()
		Expect(runs[0].Verdict).To(Equal(v1.VerdictAborted))
		Expect(runs[0].Message).To(And(ContainSubstring("during upgrade"), ContainSubstring("registry "+reg.Addr)))
	}, NodeTimeout(8*time.Minute))
})
