package controllers_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/reconcile"
)

var _ = Describe("WarmCanonicalReconciler after a crash", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		w.cluster.set("warm_app", v10, true)
	})

	It("turns a promotion that converged after the crash into Promoted with no second deploy", func(ctx SpecContext) {
		By("a promotion dying while it waits")
		w.cluster.waitBlocks = true
		dying, kill := context.WithCancel(ctx)
		go func() { <-w.cluster.blocked; kill() }()
		_, err := w.r.Converge(dying, "app", false)
		Expect(err).To(HaveOccurred())
		st := w.status("app")
		Expect(st.LastAttemptedVersion).To(Equal(v11))
		Expect(st.Conditions.IsTrue(v1.ConditionReconciling)).To(BeTrue())
		Expect(w.cluster.writes()).To(HaveLen(1))

		By("a new process finding the stack converged meanwhile")
		w.cluster.waitBlocks = false
		w.restart()
		out, err := w.r.Converge(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultConverged))
		Expect(w.cluster.writes()).To(HaveLen(1))
		st = w.status("app")
		Expect(ready(st).Reason).To(Equal(v1.ReasonPromoted))
		Expect(st.KnownGoodVersion).To(Equal(v11))
		ps, err := controllers.Promotions(w.store, "app")
		Expect(err).NotTo(HaveOccurred())
		Expect(ps).To(HaveLen(1))
		Expect(ps[0].To).To(Equal(v11))
	}, NodeTimeout(10*time.Second))

	It("rolls back a failed promotion whose rollback the crash prevented", func(ctx SpecContext) {
		w.cluster.set("warm_app", v11, false)
		Expect(w.store.Put(v1.KindWarmCanonical, "app", v1.WarmCanonicalStatus{
			ObservedGeneration: warmCanonical("app", "latest").SpecHash(),
			KnownGoodVersion:   v10, LastAttemptedVersion: v11, FailedVersions: []string{v11},
			Conditions: v1.Conditions{{Type: v1.ConditionReady, Status: v1.ConditionFalse, Reason: v1.ReasonPromotionFailed}},
		})).To(Succeed())
		out, err := w.r.Converge(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultRolledBack))
		Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v10}))
		Expect(w.status("app").KnownGoodVersion).To(Equal(v10))
	}, NodeTimeout(10*time.Second))

	Context("when spec.env was edited and the apply is interrupted", func() {
		BeforeEach(func() {
			w.cluster.set("warm_app", v11, true)
			Expect(w.store.Put(controllers.KindKnownGood, "app", controllers.KnownGood{Version: v11, Env: map[string]string{"DOMAIN": "old.example.org"}})).To(Succeed())
			wc := warmCanonical("app", "latest")
			wc.Spec.Env = map[string]string{"DOMAIN": "new.example.org"}
			w.objects.put(wc)
		})

		It("applies again after a crash mid-wait, as an apply, not a promotion", func(ctx SpecContext) {
			w.cluster.waitBlocks = true
			dying, kill := context.WithCancel(ctx)
			go func() { <-w.cluster.blocked; kill() }()
			_, err := w.r.Converge(dying, "app", false)
			Expect(err).To(HaveOccurred())
			rec, _ := w.status("app").Conditions.Get(v1.ConditionReconciling)
			Expect(rec.Reason).NotTo(Equal(v1.ReasonPromoting))

			w.cluster.waitBlocks = false
			w.restart()
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultApplied))
			Expect(ready(w.status("app")).Reason).To(Equal(v1.ReasonApplied))
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
			Expect(w.cluster.writes()).To(HaveLen(2))
			Expect(w.tester.requests()).To(BeEmpty())
		}, NodeTimeout(10*time.Second))

		It("rolls back to the previous env when the crash came between a failed apply and its rollback", func(ctx SpecContext) {
			w.cluster.set("warm_app", v11, false)
			wc := warmCanonical("app", "latest")
			wc.Spec.Env = map[string]string{"DOMAIN": "new.example.org"}
			Expect(w.store.Put(v1.KindWarmCanonical, "app", v1.WarmCanonicalStatus{
				ObservedGeneration: wc.SpecHash(), KnownGoodVersion: v11, LastAttemptedVersion: v11, FailedVersions: []string{v11},
				Conditions: v1.Conditions{{Type: v1.ConditionReady, Status: v1.ConditionFalse, Reason: v1.ReasonPromotionFailed}},
			})).To(Succeed())
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultRolledBack))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v11}))
			Expect(w.cluster.envs[0]).To(Equal(map[string]string{"DOMAIN": "old.example.org"}))
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.cluster.writes()).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))
	})

	It("starts a new run when a run record says Running but its process died", func(ctx SpecContext) {
		Expect(w.store.PutRun("app", "deadbeef0000", v1.Run{ID: "deadbeef0000", Version: v11, SpecHash: recipeTest("app").SpecHash(),
			Verdict: v1.VerdictRunning, StartedAt: time.Now()})).To(Succeed())
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
		Expect(w.tester.requests()).To(HaveLen(1))
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("WarmCanonicalReconciler with bad input", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld(GinkgoT().TempDir(), warmCanonical("app", "latest"))
	})

	It("marks an invalid resource Stalled with the loader's message and a terminal error", func(ctx SpecContext) {
		w.objects.breakObject(v1.Key{Kind: v1.KindWarmCanonical, Name: "app"}, `spec.mode: "warm" is not valid (valid: live, data)`)
		_, err := w.r.Reconcile(ctx, reconcile.Request{Kind: v1.KindWarmCanonical, Name: "app"})
		Expect(reconcile.IsTerminal(err)).To(BeTrue())
		st := w.status("app")
		stalled, ok := st.Conditions.Get(v1.ConditionStalled)
		Expect(ok).To(BeTrue())
		Expect(stalled.Reason).To(Equal(v1.ReasonInvalidSpec))
		Expect(stalled.Message).To(ContainSubstring(`resources/x.yaml:3: WarmCanonical "app": spec.mode: "warm" is not valid`))

		By("fixing the file recovering it")
		w.objects.put(warmCanonical("app", "latest"))
		w.objects.put(recipeTest("app"))
		w.cluster.set("warm_app", v11, true)
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		_, ok = w.status("app").Conditions.Get(v1.ConditionStalled)
		Expect(ok).To(BeFalse())
	}, NodeTimeout(10*time.Second))

	It("reports a missing RecipeTest and is woken when it appears", func(ctx SpecContext) {
		out, err := w.r.Converge(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultFailed))
		Expect(ready(w.status("app")).Reason).To(Equal(v1.ReasonRecipeTestNotFound))
		Expect(w.status("app").Conditions.IsTrue(v1.ConditionStalled)).To(BeTrue())

		w.objects.put(recipeTest("app"))
		rtr := &controllers.RecipeTestReconciler{Objects: w.objects, Store: w.store, Runs: w.pool, Wake: func(r reconcile.Request) { w.woken <- r }}
		_, err = rtr.Reconcile(ctx, reconcile.Request{Kind: v1.KindRecipeTest, Name: "app"})
		Expect(err).NotTo(HaveOccurred())
		Expect(w.woken).To(Receive(Equal(reconcile.Request{Kind: v1.KindWarmCanonical, Name: "app"})))
	}, NodeTimeout(10*time.Second))

	It("reports a version that is not a tag", func(ctx SpecContext) {
		w.objects.put(recipeTest("app"))
		w.objects.put(warmCanonical("app", "3.6.0+9"))
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
		Expect(ready(w.status("app")).Reason).To(Equal(v1.ReasonVersionNotFound))
	}, NodeTimeout(10*time.Second))
})
