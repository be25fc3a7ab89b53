//go:build integration

package integration

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

const tag111 = "1.1.1+1.1" // converges, then crashes twenty seconds after it started

var _ = Describe("a soak window before known-good", func() {
	It("rolls back a release that crashes after converging, marks it failed, and does not loop", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		w.writeWarmCanonical(tag11)
		action, code := w.sweepAction(ctx)
		Expect(action).To(Equal("PROMOTED"))
		Expect(code).To(Equal(0))

		By("releasing 1.1.1+1.1, whose app exits twenty seconds after it starts")
		w.publish(ctx, tag11, tag111, func(c string) string {
			c = strings.Replace(c, "version="+tag11, "version="+tag111, 1)
			c = strings.Replace(c, "      - SAMPLE_UNHEALTHY=${SAMPLE_UNHEALTHY}\n", "      - SAMPLE_UNHEALTHY=${SAMPLE_UNHEALTHY}\n      - SAMPLE_CRASH_AFTER=20s\n", 1)
			Expect(c).To(ContainSubstring("SAMPLE_CRASH_AFTER=20s"))
			return c
		})

		By("asking for it with a 30s soak: it converges, crashes in the soak, and is rolled back")
		w.writeWarmCanonical(tag111, "soak: 30s")
		action, code = w.sweepAction(ctx)
		Expect(action).To(Equal("ROLLED-BACK"))
		Expect(code).To(Equal(1))
		Expect(w.deployedVersion(ctx)).To(Equal(tag11), "Swarm runs the known-good version again")
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
		st := w.status()
		Expect(st.FailedVersions).To(ContainElement(tag111))
		Expect(st.KnownGoodVersion).To(Equal(tag11))
		ready, _ := st.Conditions.Get(v1.ConditionReady)
		Expect(ready.Message).To(ContainSubstring("soak"))

		By("a later sweep neither tests nor deploys it again")
		runs, before := len(w.runs()), w.serviceIndexes(ctx)
		action, _ = w.sweepAction(ctx)
		Expect(action).To(Equal("FAILED"))
		Expect(w.runs()).To(HaveLen(runs))
		Expect(w.serviceIndexes(ctx)).To(Equal(before))
	}, NodeTimeout(8*time.Minute))
})
