package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/reconcile"
)

var _ = Describe("The WarmCanonical conditions finaliser", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
	})
	hash := func() string {
		wc := warmCanonical("app", "latest")
		wc.Default()
		return wc.SpecHash()
	}
	reconciling := func(st v1.WarmCanonicalStatus) v1.Condition {
		c, _ := st.Conditions.Get(v1.ConditionReconciling)
		return c
	}

	It("sets observedGeneration only once a reconcile reached its goal", func(ctx SpecContext) {
		out, err := w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultTesting))
		st := w.status("app")
		Expect(st.ObservedGeneration).To(BeEmpty(), "waiting for a test run is not the goal")
		Expect(st.Progress).To(HaveField("Reason", v1.ReasonTesting))
		Expect(reconciling(st)).To(And(HaveField("Status", v1.ConditionTrue), HaveField("Reason", v1.ReasonTesting)))

		Eventually(w.woken).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).
			Should(Receive(Equal(reconcile.Request{Kind: v1.KindWarmCanonical, Name: "app"})))
		out, err = w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultPromoted))
		st = w.status("app")
		Expect(st.ObservedGeneration).To(Equal(hash()))
		Expect(st.Progress).To(BeNil())
		Expect(reconciling(st)).To(And(HaveField("Status", v1.ConditionFalse), HaveField("Reason", v1.ReasonPromoted)))
	}, NodeTimeout(10*time.Second))

	It("says ProgressingWithRetry on a retried error and keeps the promotion under way for the retry", func(ctx SpecContext) {
		w.cluster.set("warm_app", v10, true)
		w.objects.put(warmCanonical("app", v10))
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		w.objects.put(warmCanonical("app", v11))
		w.cluster.mu.Lock()
		w.cluster.waitErr = &swarm.EngineTimeoutError{}
		w.cluster.mu.Unlock()

		out, err := w.r.Converge(ctx, "app", false)
		Expect(err).To(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultError))
		st := w.status("app")
		Expect(reconciling(st)).To(And(HaveField("Status", v1.ConditionTrue), HaveField("Reason", v1.ReasonProgressingWithRetry)))
		Expect(ready(st)).To(HaveField("Reason", v1.ReasonPromoting))
		Expect(st.Progress).To(And(Not(BeNil()), HaveField("Reason", v1.ReasonPromoting), HaveField("Version", v11)))
		Expect(st.ObservedGeneration).NotTo(Equal(func() string { wc := warmCanonical("app", v11); wc.Default(); return wc.SpecHash() }()))
		Expect(st.FailedVersions).To(BeEmpty(), "an engine failure is no verdict on the version")

		By("the engine answering again: the retry reports the promotion that converged meanwhile")
		w.cluster.mu.Lock()
		w.cluster.waitErr = nil
		w.cluster.mu.Unlock()
		out, err = w.r.Converge(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultConverged))
		st = w.status("app")
		Expect(ready(st)).To(And(HaveField("Status", v1.ConditionTrue), HaveField("Reason", v1.ReasonPromoted)))
		Expect(st.Progress).To(BeNil())
		Expect(reconciling(st).Status).To(Equal(v1.ConditionFalse))
	}, NodeTimeout(10*time.Second))

	It("keeps failed versions under the spec they failed with, not under observedGeneration", func(ctx SpecContext) {
		w.cluster.set("warm_app", v10, true)
		Expect(w.store.Put(v1.KindWarmCanonical, "app", v1.WarmCanonicalStatus{
			FailedVersionsSpec: hash(), KnownGoodVersion: v10, LastAttemptedVersion: v11, FailedVersions: []string{v11},
		})).To(Succeed())
		out, err := w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Plan.Action).To(Equal(controllers.ActionFailed), "no success ever set observedGeneration; the failure still stands")
		Expect(w.status("app").ObservedGeneration).To(BeEmpty())

		By("an edit of the spec forgetting it")
		wc := warmCanonical("app", "latest")
		wc.Spec.AllowMajor = true
		w.objects.put(wc)
		out, err = w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Plan.Action).To(Equal(controllers.ActionTest))
		Expect(w.status("app").FailedVersions).To(BeEmpty())
	}, NodeTimeout(10*time.Second))
})
