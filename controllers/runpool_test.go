package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/reconcile"
)

var _ = Describe("RunPool", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), recipeTest("other"))
		w.tester.release = make(chan struct{})
	})

	Context("when the same recipe and version is requested twice", func() {
		It("joins the running run and wakes both owners", func(ctx SpecContext) {
			a, err := w.pool.Start(controllers.RunRequest{RecipeTest: "app", Ref: v11, Version: v11, Trigger: v1.TriggerPromotion, Owner: "one"})
			Expect(err).NotTo(HaveOccurred())
			b, err := w.pool.Start(controllers.RunRequest{RecipeTest: "app", Ref: v11, Version: v11, Trigger: v1.TriggerPromotion, Owner: "two"})
			Expect(err).NotTo(HaveOccurred())
			Expect(b).To(Equal(a))
			Expect(w.pool.Active(a)).To(BeTrue())

			By("the gate seeing the run as soon as it was started")
			runs, err := controllers.LoadRuns(w.store, "app")
			Expect(err).NotTo(HaveOccurred())
			Expect(runs).To(HaveLen(1))
			Expect(runs[0].Verdict).To(Equal(v1.VerdictRunning))

			close(w.tester.release)
			run, err := w.pool.Wait(ctx, "app", a)
			Expect(err).NotTo(HaveOccurred())
			Expect(run.Verdict).To(Equal(v1.VerdictPassed))
			Expect(w.tester.requests()).To(HaveLen(1))
			var woken []reconcile.Request
			for range 3 {
				var r reconcile.Request
				Eventually(w.woken).WithTimeout(time.Second).WithPolling(10 * time.Millisecond).Should(Receive(&r))
				woken = append(woken, r)
			}
			Expect(woken).To(ConsistOf(
				reconcile.Request{Kind: v1.KindRecipeTest, Name: "app"},
				reconcile.Request{Kind: v1.KindWarmCanonical, Name: "one"},
				reconcile.Request{Kind: v1.KindWarmCanonical, Name: "two"}))
		}, NodeTimeout(10*time.Second))
	})

	Context("when more runs are requested than --max-runs", func() {
		It("runs at most Max at once, and says which runs wait for a slot", func(ctx SpecContext) {
			type event struct {
				recipeTest       string
				queued           bool
				running, waiting int
			}
			events := make(chan event, 10)
			w.pool.Scheduled = func(req controllers.RunRequest, queued bool, running, waiting int) {
				events <- event{req.RecipeTest, queued, running, waiting}
			}
			queued := func(recipeTest string) bool {
				runs, err := controllers.LoadRuns(w.store, recipeTest)
				Expect(err).NotTo(HaveOccurred())
				Expect(runs).To(HaveLen(1))
				return runs[0].Queued
			}
			a, err := w.pool.Start(controllers.RunRequest{RecipeTest: "app", Ref: v11, Trigger: v1.TriggerManual})
			Expect(err).NotTo(HaveOccurred())
			Eventually(events).WithTimeout(2 * time.Second).WithPolling(10 * time.Millisecond).Should(Receive(Equal(event{"app", false, 1, 0})))
			b, err := w.pool.Start(controllers.RunRequest{RecipeTest: "other", Ref: v11, Trigger: v1.TriggerManual})
			Expect(err).NotTo(HaveOccurred())
			Expect(b).NotTo(Equal(a))
			Eventually(events).WithTimeout(2 * time.Second).WithPolling(10 * time.Millisecond).Should(Receive(Equal(event{"other", true, 1, 1})))
			Consistently(func() int { return len(w.tester.requests()) }).WithTimeout(300 * time.Millisecond).WithPolling(20 * time.Millisecond).Should(Equal(1))
			running, waiting := w.pool.Counts()
			Expect([]int{running, waiting}).To(Equal([]int{1, 1}), "one running, one waiting")
			Expect(queued("app")).To(BeFalse())
			Expect(queued("other")).To(BeTrue(), "the record of the waiting run says so")

			w.tester.release <- struct{}{}
			Eventually(func() int { return len(w.tester.requests()) }).WithTimeout(2 * time.Second).WithPolling(20 * time.Millisecond).Should(Equal(2))
			Eventually(events).WithTimeout(2 * time.Second).WithPolling(10 * time.Millisecond).Should(Receive(Equal(event{"other", false, 1, 0})))
			Expect(queued("other")).To(BeFalse())
			w.tester.release <- struct{}{}
			Expect(w.pool.Wait(ctx, "app", a)).To(HaveField("Verdict", v1.VerdictPassed))
			Expect(w.pool.Wait(ctx, "other", b)).To(HaveField("Verdict", v1.VerdictPassed))
		}, NodeTimeout(10*time.Second))
	})
})
