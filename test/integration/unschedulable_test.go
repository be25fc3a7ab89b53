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
	"coopcloud.tech/ccci-controller/controllers"
)

var _ = Describe("a placement constraint no node satisfies", func() {
	const tag13 = "1.3.0+1.3"
	const nosuch = "node.labels.nosuch==x"

	It("stalls a promotion (Unschedulable, one attempt) and fails a run at install, naming the constraint", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		By("a release whose app is placed by ${PLACEMENT}, a manager by default")
		w.publish(ctx, tag11, tag13, func(c string) string {
			c = strings.Replace(c, "coop-cloud.${STACK_NAME}.version=1.1.0+1.1", "coop-cloud.${STACK_NAME}.version="+tag13, 1)
			return strings.Replace(c, "      endpoint_mode: dnsrr\n", "      endpoint_mode: dnsrr\n      placement:\n        constraints: [\"${PLACEMENT:-node.role==manager}\"]\n", 1)
		})

		By("a warm app whose spec.env places it on a label no node has: the test run passes, the promotion stalls")
		w.writeWarmCanonical(tag13, "env:", "  PLACEMENT: \""+nosuch+"\"")
		action, code := w.sweepAction(ctx)
		Expect(action).To(Equal("STALLED"))
		Expect(code).To(Equal(1))
		st := w.status()
		stalled, ok := st.Conditions.Get(v1.ConditionStalled)
		Expect(ok).To(BeTrue())
		Expect(stalled.Status).To(Equal(v1.ConditionTrue))
		Expect(stalled.Reason).To(Equal(v1.ReasonUnschedulable))
		Expect(stalled.Message).To(ContainSubstring(nosuch))
		Expect(w.ready()).To(Equal("False/" + v1.ReasonUnschedulable))
		ps := w.promotions()
		Expect(ps).To(HaveLen(1))
		Expect(ps[0].State).To(Equal(controllers.PromotionFailed))
		Expect(stalled.Message).NotTo(ContainSubstring("not converged after"), "judged from the scheduler, not by the timeout")
		GinkgoWriter.Printf("promotion stalled %s after it started\n", stalled.LastTransitionTime.Sub(ps[0].StartedAt))
		Expect(specWrites(ctx, ps[0].StartedAt.Add(-time.Second), w.stack+"_app")).To(BeZero(), "created once, never updated")

		By("the next sweep attempting nothing: the stall is terminal until the spec changes")
		before := w.serviceIndexes(ctx)
		action, _ = w.sweepAction(ctx)
		Expect(action).To(Equal("STALLED"))
		Expect(w.serviceIndexes(ctx)).To(Equal(before))
		Expect(w.promotions()).To(HaveLen(1))

		By("a test run whose env places the app on that label: Failed at install, not Aborted")
		rt := filepath.Join(w.resources, "rt.yaml")
		data, err := os.ReadFile(rt)
		Expect(err).NotTo(HaveOccurred())
		w.write("rt.yaml", strings.Replace(string(data), "  env:\n", "  env:\n    PLACEMENT: \""+nosuch+"\"\n", 1))
		_, _, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag13)
		Expect(code).To(Equal(1))
		run := w.runs()[0]
		Expect(run.Verdict).To(Equal(v1.VerdictFailed), run.Message)
		Expect(run.Tiers).NotTo(BeEmpty())
		Expect(run.Tiers[0].Name).To(Equal(v1.TierInstall))
		Expect(run.Tiers[0].Result).To(Equal(v1.ResultFailed))
		Expect(run.Tiers[0].Reason).To(ContainSubstring("unschedulable"))
		Expect(run.Tiers[0].Reason).To(ContainSubstring(nosuch))
		Expect(run.Tiers[0].Reason).NotTo(ContainSubstring("timed out"))
		GinkgoWriter.Printf("install failed after %s\n", run.Tiers[0].Duration)
	}, NodeTimeout(6*time.Minute))
})
