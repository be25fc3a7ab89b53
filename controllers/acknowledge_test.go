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

var _ = Describe("Trigger acknowledgement", func() {
	It("records the trigger's token in the status of the reconcile that handled it", func(ctx SpecContext) {
		w := newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		w.cluster.set("warm_app", v11, true)

		By("a reconcile without a trigger leaving it empty")
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		Expect(w.status("app").LastHandledReconcileAt).To(BeEmpty())

		By("a triggered reconcile of a converged object recording the token, with no Swarm write")
		w.r.Acknowledge("app", "2026-11-25T18:00:00Z")
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		Expect(w.status("app").LastHandledReconcileAt).To(Equal("2026-11-25T18:00:00Z"))
		Expect(w.cluster.writes()).To(BeEmpty())

		By("a RecipeTest reconcile recording its own token")
		rt := &controllers.RecipeTestReconciler{Objects: w.objects, Store: w.store, Runs: w.pool}
		rt.Acknowledge("app", "token-2")
		_, err := rt.Reconcile(ctx, reconcile.Request{Kind: v1.KindRecipeTest, Name: "app"})
		Expect(err).NotTo(HaveOccurred())
		st, err := controllers.RecipeTestStatusOf(w.store, "app")
		Expect(err).NotTo(HaveOccurred())
		Expect(st.LastHandledReconcileAt).To(Equal("token-2"))
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("Await", func() {
	It("gives every trigger the reconcile handled its settled outcome, and a cancelled wait changes nothing", func(ctx SpecContext) {
		w := newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		w.cluster.set("warm_app", v11, true)
		w.r.Acknowledge("app", "sweep-token")
		w.r.Acknowledge("app", "reconcile-token")

		By("a client that gives up before the reconcile")
		gone, cancel := context.WithCancel(ctx)
		cancel()
		_, err := w.r.Await(gone, "app", "sweep-token")
		Expect(err).To(MatchError(ContainSubstring("the reconcile goes on in the daemon")))

		By("the queue's reconcile handling both")
		_, err = w.r.Reconcile(ctx, reconcile.Request{Kind: v1.KindWarmCanonical, Name: "app"})
		Expect(err).NotTo(HaveOccurred())
		for _, tok := range []string{"sweep-token", "reconcile-token"} {
			out, err := w.r.Await(ctx, "app", tok)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultConverged))
		}
		Expect(w.status("app").LastHandledReconcileAt).To(Equal("reconcile-token"))
	}, NodeTimeout(10*time.Second))
})
