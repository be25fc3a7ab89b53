package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

var _ = Describe("WarmCanonicalReconciler and drift", func() {
	var w *world
	envDrift := swarm.Drift{Service: "warm_app_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}
	withDrift := func(policy v1.DriftPolicy) {
		wc := warmCanonical("app", "latest")
		wc.Spec.Drift = policy
		w.objects.put(wc)
	}
	drifted := func() v1.Condition {
		c, _ := w.status("app").Conditions.Get(v1.ConditionDrifted)
		return c
	}
	BeforeEach(func(ctx SpecContext) {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		Expect(drifted().Status).To(Equal(v1.ConditionFalse))
	}, NodeTimeout(10*time.Second))

	It("reports a hand rollout still in progress as drift: no promotion recorded, nothing written", func(ctx SpecContext) {
		w.cluster.handEdit("warm_app", false, envDrift)
		out, err := w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Plan.Action).To(Equal(controllers.ActionDrifted))
		Expect(out.Result).To(Equal(controllers.ResultDrifted))
		Expect(w.cluster.writes()).To(HaveLen(1), "only the promotion wrote")
		Expect(drifted().Status).To(Equal(v1.ConditionTrue))
		Expect(drifted().Message).To(ContainSubstring("warm_app_app: [TaskTemplate.ContainerSpec.Env]"))
		ps, err := controllers.Promotions(w.store, "app")
		Expect(err).NotTo(HaveOccurred())
		Expect(ps).To(HaveLen(1), "a hand rollout is not a promotion")

		By("the next reconcile deciding again from what it remembers, without asking Swarm again")
		calls := w.cluster.driftCalls
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultDrifted))
		Expect(w.cluster.driftCalls).To(Equal(calls))
	}, NodeTimeout(10*time.Second))

	It("corrects a standing drift once spec.drift becomes correct, by one deploy, and plans it first", func(ctx SpecContext) {
		w.cluster.handEdit("warm_app", true, envDrift)
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultDrifted))

		withDrift(v1.DriftCorrect)
		p, err := w.r.Plan(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Plan.Action).To(Equal(controllers.ActionCorrect))
		Expect(p.Plan.String()).To(Equal("CORRECT " + v11 + " (warm_app_app: [TaskTemplate.ContainerSpec.Env])"))
		Expect(w.cluster.writes()).To(HaveLen(1), "a plan writes nothing")

		out, err := w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultCorrected))
		Expect(w.cluster.corrections).To(Equal([]string{"warm_app@" + v11}))
		Expect(drifted().Status).To(Equal(v1.ConditionFalse))
		Expect(ready(w.status("app")).Status).To(Equal(v1.ConditionTrue))

		By("the next reconcile finding the live spec as applied")
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		Expect(w.cluster.writes()).To(HaveLen(2))
	}, NodeTimeout(10*time.Second))

	It("stalls a correction whose data node was drained, like a promotion, without failing the version", func(ctx SpecContext) {
		withDrift(v1.DriftCorrect)
		w.cluster.handEdit("warm_app", true, envDrift)
		w.cluster.mu.Lock()
		w.cluster.waitErr = &swarm.LocalityError{Message: "data locality: service warm_app_db ran on node mn2 (drained)", Unusable: []string{"mn2"}}
		w.cluster.mu.Unlock()
		out, err := w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultStalled))
		st := w.status("app")
		stalled, _ := st.Conditions.Get(v1.ConditionStalled)
		Expect(stalled.Reason).To(Equal(v1.ReasonDataNodeMoved))
		Expect(stalled.Message).To(ContainSubstring("node mn2 cannot run tasks"))
		Expect(st.FailedVersions).To(BeEmpty())
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("WarmCanonicalReconciler: one verdict per failure", func() {
	unusable := &swarm.LocalityError{Message: "data locality: service warm_app_db ran on node mn2 (drained)", Unusable: []string{"mn2"}}
	unschedulable := &swarm.ConstraintError{Service: "warm_app_app", Constraint: "node.labels.nosuch==x"}
	var w *world
	BeforeEach(func(ctx SpecContext) {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		w.recipes.setTags(v10)
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
	}, NodeTimeout(10*time.Second))
	failWaits := func(err error) {
		w.cluster.mu.Lock()
		w.cluster.waitErr = err
		w.cluster.mu.Unlock()
	}
	promote := func() { w.recipes.setTags(v10, v11) }
	apply := func() {
		wc := warmCanonical("app", "latest")
		wc.Spec.Env = map[string]string{"DOMAIN": "new.example.org"}
		w.objects.put(wc)
	}
	DescribeTable("stalls without a rollback or a failed version when a data node cannot run tasks",
		func(ctx SpecContext, change func(), version string) {
			change()
			failWaits(unusable)
			out, err := w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultStalled))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v10, "warm_app@" + version}), "no rollback")
			st := w.status("app")
			Expect(st.FailedVersions).To(BeEmpty())
			Expect(ready(st).Reason).To(Equal(v1.ReasonDataNodeMoved))
		},
		Entry("under a promotion", promote, v11, NodeTimeout(10*time.Second)),
		Entry("under an apply", apply, v10, NodeTimeout(10*time.Second)),
	)
	DescribeTable("is Stalled, Unschedulable, terminal, when no node satisfies a constraint",
		func(ctx SpecContext, change func(), version string) {
			change()
			failWaits(unschedulable)
			out, err := w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultStalled))
			st := w.status("app")
			stalled, _ := st.Conditions.Get(v1.ConditionStalled)
			Expect(stalled.Reason).To(Equal(v1.ReasonUnschedulable))
			Expect(stalled.Message).To(ContainSubstring("node.labels.nosuch==x"))
			Expect(ready(st).Reason).To(Equal(v1.ReasonUnschedulable))

			By("the next reconcile, with the task still pending, attempting nothing")
			failWaits(nil)
			w.cluster.set("warm_app", version, false)
			out, err = w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Plan.Action).To(Equal(controllers.ActionStalled))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v10, "warm_app@" + version}), "one attempt, no rollback")
		},
		Entry("under a promotion", promote, v11, NodeTimeout(10*time.Second)),
		Entry("under an apply", apply, v10, NodeTimeout(10*time.Second)),
	)
})
