package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/reconcile"
)

var _ = Describe("RecipeTestReconciler", func() {
	var (
		w   *world
		rtr *controllers.RecipeTestReconciler
	)
	req := reconcile.Request{Kind: v1.KindRecipeTest, Name: "app"}
	BeforeEach(func() {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"), warmCanonical("other", "latest"))
		rtr = &controllers.RecipeTestReconciler{Objects: w.objects, Store: w.store, Runs: w.pool, Wake: func(r reconcile.Request) { w.woken <- r }}
	})
	readyOf := func() v1.Condition {
		st, err := controllers.RecipeTestStatusOf(w.store, "app")
		Expect(err).NotTo(HaveOccurred())
		c, _ := st.Conditions.Get(v1.ConditionReady)
		return c
	}

	It("reports the last run of the current spec, and forgets it when the spec changes", func(ctx SpecContext) {
		w.tester.fail[v11] = true
		id, err := w.pool.Start(controllers.RunRequest{RecipeTest: "app", Ref: v11, Version: v11, Trigger: v1.TriggerManual})
		Expect(err).NotTo(HaveOccurred())
		Expect(w.pool.Wait(ctx, "app", id)).To(HaveField("Verdict", v1.VerdictFailed))
		_, err = rtr.Reconcile(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(readyOf().Reason).To(Equal(v1.ReasonTestsFailed))

		By("a spec change making the old run not count")
		rt := recipeTest("app")
		rt.Spec.Env = map[string]string{"DOMAIN": "x.example.org"}
		w.objects.put(rt)
		_, err = rtr.Reconcile(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		st, err := controllers.RecipeTestStatusOf(w.store, "app")
		Expect(err).NotTo(HaveOccurred())
		Expect(st.ObservedGeneration).To(Equal(rt.SpecHash()))
		Expect(st.Runs).To(HaveLen(1))
		c, _ := st.Conditions.Get(v1.ConditionReconciling)
		Expect(c.Message).To(ContainSubstring("no run of the current spec"))
	}, NodeTimeout(10*time.Second))

	It("wakes only the WarmCanonicals it gates", func(ctx SpecContext) {
		wc := warmCanonical("other", "latest")
		wc.Spec.RecipeTest = "someone-else"
		w.objects.put(wc)
		_, err := rtr.Reconcile(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(w.woken).To(Receive(Equal(reconcile.Request{Kind: v1.KindWarmCanonical, Name: "app"})))
		Expect(w.woken).NotTo(Receive())
	}, NodeTimeout(10*time.Second))

	It("marks an invalid RecipeTest Stalled and does not retry", func(ctx SpecContext) {
		w.objects.breakObject(v1.Key{Kind: v1.KindRecipeTest, Name: "app"}, "spec.source.git: missing")
		_, err := rtr.Reconcile(ctx, req)
		Expect(reconcile.IsTerminal(err)).To(BeTrue())
		st, _ := controllers.RecipeTestStatusOf(w.store, "app")
		Expect(st.Conditions.IsTrue(v1.ConditionStalled)).To(BeTrue())
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("WarmCanonicalReconciler.Sweep", func() {
	It("converges every object and reports whether any failed", func(ctx SpecContext) {
		w := newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("a", "latest"), warmCanonical("b", "latest"))
		for _, n := range []string{"a", "b"} {
			wc := warmCanonical(n, "latest")
			wc.Spec.RecipeTest = "app"
			w.objects.put(wc)
		}
		w.cluster.set("warm_a", v11, true)
		w.cluster.set("warm_b", v10, true)
		w.cluster.unhealthy[v11] = false
		w.tester.fail[v11] = true
		var lines []controllers.SweepLine
		failed, err := w.r.Sweep(ctx, func(l controllers.SweepLine) { lines = append(lines, l) })
		Expect(err).NotTo(HaveOccurred())
		Expect(failed).To(BeTrue())
		Expect(lines).To(HaveLen(2))
		Expect(lines[0].Result).To(Equal(controllers.ResultConverged))
		Expect(lines[1].Result).To(Equal(controllers.ResultFailed))
		Expect(lines[1].Deployed).To(Equal(v10))
		Expect(lines[1].Desired).To(Equal(v11))
	}, NodeTimeout(10*time.Second))

	DescribeTable("says which results fail a sweep",
		func(r controllers.Result, failed bool) { Expect(r.Failed()).To(Equal(failed)) },
		Entry(nil, controllers.ResultConverged, false),
		Entry(nil, controllers.ResultSkip, false),
		Entry(nil, controllers.ResultPromoted, false),
		Entry(nil, controllers.ResultHeld, false),
		Entry(nil, controllers.ResultFailed, true),
		Entry(nil, controllers.ResultRolledBack, true),
		Entry(nil, controllers.ResultInvalid, true),
		Entry(nil, controllers.ResultError, true),
	)
})
