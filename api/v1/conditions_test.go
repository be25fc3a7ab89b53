package v1_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("Conditions", func() {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	ready := func(s v1.ConditionStatus, reason string) v1.Condition {
		return v1.Condition{Type: v1.ConditionReady, Status: s, Reason: reason, Message: reason}
	}

	Context("when a condition is new", func() {
		It("adds it with the injected time", func() {
			var cs v1.Conditions
			Expect(cs.Set(ready(v1.ConditionTrue, v1.ReasonPromoted), t0)).To(BeTrue())
			c, ok := cs.Get(v1.ConditionReady)
			Expect(ok).To(BeTrue())
			Expect(c.LastTransitionTime).To(Equal(t0))
			Expect(cs.IsTrue(v1.ConditionReady)).To(BeTrue())
		})
	})

	Context("when the status stays the same", func() {
		It("keeps lastTransitionTime and updates reason and message", func() {
			cs := v1.Conditions{}
			cs.Set(ready(v1.ConditionTrue, v1.ReasonPromoted), t0)
			Expect(cs.Set(ready(v1.ConditionTrue, v1.ReasonAlreadyDeployed), t1)).To(BeTrue())
			c, _ := cs.Get(v1.ConditionReady)
			Expect(c.LastTransitionTime).To(Equal(t0))
			Expect(c.Reason).To(Equal(v1.ReasonAlreadyDeployed))
			By("reporting no change when nothing differs")
			Expect(cs.Set(ready(v1.ConditionTrue, v1.ReasonAlreadyDeployed), t1)).To(BeFalse())
			Expect(cs).To(HaveLen(1))
		})
	})

	Context("when the status changes", func() {
		It("moves lastTransitionTime to now", func() {
			cs := v1.Conditions{}
			cs.Set(ready(v1.ConditionTrue, v1.ReasonPromoted), t0)
			cs.Set(ready(v1.ConditionFalse, v1.ReasonPromotionFailed), t1)
			c, _ := cs.Get(v1.ConditionReady)
			Expect(c.LastTransitionTime).To(Equal(t1))
			Expect(cs.IsTrue(v1.ConditionReady)).To(BeFalse())
		})
	})

	It("removes a condition", func() {
		cs := v1.Conditions{}
		cs.Set(v1.Condition{Type: v1.ConditionStalled, Status: v1.ConditionTrue, Reason: v1.ReasonInvalidSpec}, t0)
		Expect(cs.Remove(v1.ConditionStalled)).To(BeTrue())
		Expect(cs).To(BeEmpty())
		Expect(cs.Remove(v1.ConditionStalled)).To(BeFalse())
	})
})
