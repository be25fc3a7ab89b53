package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/reconcile"
)

func recipeTest(name string) *v1.RecipeTest {
	return &v1.RecipeTest{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindRecipeTest},
		Metadata: v1.ObjectMeta{Name: name}, Spec: v1.RecipeTestSpec{Source: v1.Source{Git: "/srv/recipes/" + name}}}
}

func warmCanonical(name, version string) *v1.WarmCanonical {
	return &v1.WarmCanonical{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindWarmCanonical},
		Metadata: v1.ObjectMeta{Name: name}, Spec: v1.WarmCanonicalSpec{Version: version}}
}

// world is a reconciler wired to fakes and a real state directory.
type world struct {
	objects *fakeObjects
	cluster *fakeCluster
	recipes *fakeRecipes
	tester  *fakeTester
	store   *store.Store
	pool    *controllers.RunPool
	r       *controllers.WarmCanonicalReconciler
	woken   chan reconcile.Request
}

func newWorld(dir string, objs ...v1.Object) *world {
	st, err := store.Open(dir)
	Expect(err).NotTo(HaveOccurred())
	w := &world{objects: newObjects(objs...), cluster: newCluster(), recipes: &fakeRecipes{},
		tester: &fakeTester{fail: map[string]bool{}}, store: st, woken: make(chan reconcile.Request, 100)}
	w.recipes.setTags(v10, v11)
	w.restart()
	return w
}

// restart builds a fresh reconciler and pool on the same state and cluster, as a new process.
func (w *world) restart() {
	pool := &controllers.RunPool{Objects: w.objects, Store: w.store, Recipes: w.recipes, Tester: w.tester,
		Wake: func(r reconcile.Request) { w.woken <- r }}
	w.pool = pool
	// A run started by a spec goes on writing its record after the spec returns; it must end
	// before the state directory is removed (cleanups run last-in first-out, after TempDir's).
	DeferCleanup(func() {
		done := make(chan struct{})
		go func() { pool.Shutdown(); close(done) }()
		Eventually(done).WithTimeout(10*time.Second).WithPolling(10*time.Millisecond).Should(BeClosed(), "test runs still going at the end of the spec")
	})
	w.r = &controllers.WarmCanonicalReconciler{Objects: w.objects, Store: w.store, Cluster: w.cluster, Recipes: w.recipes, Runs: w.pool}
}

func (w *world) status(name string) v1.WarmCanonicalStatus {
	var st v1.WarmCanonicalStatus
	_, err := w.store.Get(v1.KindWarmCanonical, name, &st)
	Expect(err).NotTo(HaveOccurred())
	return st
}

func (w *world) runsOf(rt string) []v1.Run {
	runs, err := controllers.LoadRuns(w.store, rt)
	Expect(err).NotTo(HaveOccurred())
	return runs
}

func ready(st v1.WarmCanonicalStatus) v1.Condition {
	c, _ := st.Conditions.Get(v1.ConditionReady)
	return c
}

var _ = Describe("WarmCanonicalReconciler", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
	})

	Context("when nothing is deployed and the newest version is untested", func() {
		It("tests it, promotes it, and then stays converged without writing", func(ctx SpecContext) {
			By("a first reconcile starting the gating run and returning at once")
			out, err := w.r.ReconcileOnce(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultTesting))
			Expect(w.status("app").Conditions.IsTrue(v1.ConditionReconciling)).To(BeTrue())

			By("the run ending and waking the WarmCanonical")
			Eventually(w.woken).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).
				Should(Receive(Equal(reconcile.Request{Kind: v1.KindWarmCanonical, Name: "app"})))
			Expect(w.tester.requests()).To(HaveLen(1))
			Expect(w.tester.requests()[0].Trigger).To(Equal(v1.TriggerPromotion))

			By("the next reconcile promoting")
			out, err = w.r.ReconcileOnce(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultPromoted))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v11}))
			st := w.status("app")
			Expect(st.KnownGoodVersion).To(Equal(v11))
			Expect(ready(st).Reason).To(Equal(v1.ReasonPromoted))

			By("a second pass finding it converged and writing nothing")
			out, err = w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultConverged))
			Expect(w.cluster.writes()).To(HaveLen(1))
			Expect(w.tester.requests()).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))
	})

	Context("when the desired version is already deployed by hand", func() {
		It("reports AlreadyDeployed with no Deploy call and no test run", func(ctx SpecContext) {
			w.cluster.set("warm_app", v11, true)
			out, err := w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultConverged))
			Expect(w.cluster.writes()).To(BeEmpty())
			Expect(w.tester.requests()).To(BeEmpty())
			st := w.status("app")
			Expect(ready(st).Reason).To(Equal(v1.ReasonAlreadyDeployed))
			Expect(ready(st).Status).To(Equal(v1.ConditionTrue))
			Expect(st.KnownGoodVersion).To(Equal(v11))
		}, NodeTimeout(10*time.Second))
	})

	Context("when the new version fails its tests", func() {
		BeforeEach(func() {
			w.cluster.set("warm_app", v10, true)
			w.tester.fail[v11] = true
		})

		It("keeps the known-good version, and does not retry until forced", func(ctx SpecContext) {
			By("a first pass testing and failing")
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			st := w.status("app")
			Expect(ready(st).Reason).To(Equal(v1.ReasonTestsFailed))
			Expect(st.FailedVersions).To(ConsistOf(v11))
			Expect(st.KnownGoodVersion).To(Equal(v10))
			Expect(w.cluster.writes()).To(BeEmpty())

			By("a second pass not re-testing")
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.tester.requests()).To(HaveLen(1))

			By("a forced pass re-testing")
			Expect(w.r.Converge(ctx, "app", true)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.tester.requests()).To(HaveLen(2))
			Expect(w.status("app").FailedVersions).To(ConsistOf(v11))

			By("a forced pass promoting once the version passes")
			w.tester.mu.Lock()
			w.tester.fail[v11] = false
			w.tester.mu.Unlock()
			Expect(w.r.Converge(ctx, "app", true)).To(HaveField("Result", controllers.ResultPromoted))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v11}))
		}, NodeTimeout(10*time.Second))

		It("retries through the engine once Force was called, and only once", func(ctx SpecContext) {
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			req := reconcile.Request{Kind: v1.KindWarmCanonical, Name: "app"}
			w.r.Force("app")
			_, err := w.r.Reconcile(ctx, req)
			Expect(err).NotTo(HaveOccurred())
			Eventually(func() int { return len(w.tester.requests()) }).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).Should(Equal(2))
			Eventually(func() bool { return w.pool.Active(w.runsOf("app")[0].ID) }).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).Should(BeFalse())
			_, err = w.r.Reconcile(ctx, req)
			Expect(err).NotTo(HaveOccurred())
			_, err = w.r.Reconcile(ctx, req)
			Expect(err).NotTo(HaveOccurred())
			Expect(w.tester.requests()).To(HaveLen(2))
			Expect(ready(w.status("app")).Reason).To(Equal(v1.ReasonTestsFailed))
		}, NodeTimeout(10*time.Second))

		It("retries when the spec changes", func(ctx SpecContext) {
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			wc := warmCanonical("app", "latest")
			wc.Spec.Env = map[string]string{"DOMAIN": "app.example.org"}
			w.objects.put(wc)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.tester.requests()).To(HaveLen(2))
		}, NodeTimeout(10*time.Second))
	})

	Context("when a version passes its tests but does not converge as the warm app", func() {
		It("rolls back to known-good and never moves known-good", func(ctx SpecContext) {
			w.cluster.set("warm_app", v10, true)
			w.cluster.unhealthy[v11] = true
			out, err := w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultRolledBack))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v11, "warm_app@" + v10}))
			st := w.status("app")
			Expect(st.KnownGoodVersion).To(Equal(v10))
			Expect(st.DeployedVersion).To(Equal(v10))
			Expect(ready(st).Reason).To(Equal(v1.ReasonPromotionFailed))

			By("the next pass neither re-promoting nor rolling back again")
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.cluster.writes()).To(HaveLen(2))
		}, NodeTimeout(10*time.Second))
	})

	Context("when the new spec's env is what breaks the warm app", func() {
		It("rolls back with the env the known-good version converged with", func(ctx SpecContext) {
			w.recipes.setTags(v10)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
			w.recipes.setTags(v10, v11)
			wc := warmCanonical("app", "latest")
			wc.Spec.Env = map[string]string{"SAMPLE_UNHEALTHY": "true"}
			w.objects.put(wc)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultRolledBack))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v10, "warm_app@" + v11, "warm_app@" + v10}))
			Expect(w.cluster.envs[2]).To(BeEmpty())
			Expect(w.status("app").DeployedVersion).To(Equal(v10))
		}, NodeTimeout(10*time.Second))
	})

	Context("when only spec.env is edited and the warm app already runs the desired version", func() {
		withEnv := func(env map[string]string) {
			wc := warmCanonical("app", "latest")
			wc.Spec.Env = env
			w.objects.put(wc)
		}
		BeforeEach(func(ctx SpecContext) {
			By("promoting the desired version with the first env")
			withEnv(map[string]string{"DOMAIN": "old.example.org"})
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
			Expect(w.cluster.writes()).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))

		It("writes nothing while the spec is unchanged", func(ctx SpecContext) {
			for range 2 {
				Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
			}
			Expect(w.cluster.writes()).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))

		It("plans APPLY, deploys the same version once with the new env, then is converged again", func(ctx SpecContext) {
			withEnv(map[string]string{"DOMAIN": "new.example.org"})
			p, err := w.r.Plan(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(p.Plan.String()).To(Equal("APPLY " + v11 + " (env changed)"))
			Expect(w.cluster.writes()).To(HaveLen(1), "a plan writes nothing")

			out, err := w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultApplied))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v11, "warm_app@" + v11}))
			Expect(w.cluster.envs[1]).To(Equal(map[string]string{"DOMAIN": "new.example.org"}))
			Expect(w.tester.requests()).To(HaveLen(1), "no test run for an env edit")
			st := w.status("app")
			Expect(ready(st).Status).To(Equal(v1.ConditionTrue))
			Expect(ready(st).Reason).To(Equal(v1.ReasonApplied))
			Expect(st.KnownGoodVersion).To(Equal(v11))

			By("the next pass writing nothing")
			out, err = w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultConverged))
			Expect(w.cluster.writes()).To(HaveLen(2))
			ps, err := controllers.Promotions(w.store, "app")
			Expect(err).NotTo(HaveOccurred())
			Expect(ps).To(HaveLen(1), "an apply is not a promotion")
		}, NodeTimeout(10*time.Second))

		It("does not fail the version when the engine goes away during the apply, and applies it once the engine is back", func(ctx SpecContext) {
			withEnv(map[string]string{"DOMAIN": "new.example.org"})
			w.cluster.mu.Lock()
			w.cluster.waitErr = &swarm.NodeDownError{Node: "mn2", Stack: "warm_app"}
			w.cluster.mu.Unlock()
			out, err := w.r.Converge(ctx, "app", false)
			Expect(err).To(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultError))
			Expect(out.Message).To(ContainSubstring("mn2"))
			st := w.status("app")
			Expect(st.FailedVersions).To(BeEmpty(), "an engine failure is no verdict on the env")
			stalled, ok := st.Conditions.Get(v1.ConditionStalled)
			Expect(ok).To(BeTrue())
			Expect(stalled.Reason).To(Equal(v1.ReasonNodeUnavailable))
			Expect(stalled.Message).To(ContainSubstring("node mn2"))
			Expect(w.cluster.writes()).To(HaveLen(2), "no rollback for an engine failure")

			By("the engine answering again")
			w.cluster.mu.Lock()
			w.cluster.waitErr = nil
			w.cluster.mu.Unlock()
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultApplied))
		}, NodeTimeout(10*time.Second))

		It("rolls a failed apply back to the previous env and does not retry it until the spec changes or a force", func(ctx SpecContext) {
			withEnv(map[string]string{"DOMAIN": "old.example.org", "SAMPLE_UNHEALTHY": "true"})
			out, err := w.r.Converge(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Result).To(Equal(controllers.ResultRolledBack))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v11, "warm_app@" + v11, "warm_app@" + v11}))
			Expect(w.cluster.envs[1]).To(HaveKeyWithValue("SAMPLE_UNHEALTHY", "true"))
			Expect(w.cluster.envs[2]).To(Equal(map[string]string{"DOMAIN": "old.example.org"}))
			st := w.status("app")
			Expect(ready(st).Reason).To(Equal(v1.ReasonPromotionFailed))
			Expect(ready(st).Message).To(ContainSubstring("rolled back to the env " + v11 + " last converged with"))
			Expect(st.FailedVersions).To(ConsistOf(v11))
			Expect(st.KnownGoodVersion).To(Equal(v11))

			By("the next pass not applying the same env again")
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.cluster.writes()).To(HaveLen(3))
			Expect(ready(w.status("app")).Reason).To(Equal(v1.ReasonPromotionFailed))

			By("a forced pass applying it again")
			Expect(w.r.Converge(ctx, "app", true)).To(HaveField("Result", controllers.ResultRolledBack))
			Expect(w.cluster.writes()).To(HaveLen(5))

			By("an edit that fixes the env being applied")
			withEnv(map[string]string{"DOMAIN": "fixed.example.org"})
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultApplied))
			Expect(w.cluster.envs[5]).To(Equal(map[string]string{"DOMAIN": "fixed.example.org"}))
			Expect(w.status("app").FailedVersions).To(BeEmpty())
			Expect(w.tester.requests()).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))

		It("leaves a failed apply in place without rollback", func(ctx SpecContext) {
			wc := warmCanonical("app", "latest")
			wc.Spec.Env = map[string]string{"SAMPLE_UNHEALTHY": "true"}
			wc.Spec.Rollback = new(bool)
			w.objects.put(wc)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.cluster.writes()).To(HaveLen(2))
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
			Expect(w.cluster.writes()).To(HaveLen(2))
		}, NodeTimeout(10*time.Second))
	})

	Context("when a stack deployed by hand runs the desired version and spec.env is set", func() {
		It("takes it as deployed with the current env: converged, no write", func(ctx SpecContext) {
			wc := warmCanonical("app", "latest")
			wc.Spec.Env = map[string]string{"DOMAIN": "app.example.org"}
			w.objects.put(wc)
			w.cluster.set("warm_app", v11, true)
			for range 2 {
				Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
			}
			Expect(w.cluster.writes()).To(BeEmpty())

			By("a later edit being applied")
			wc.Spec.Env = map[string]string{"DOMAIN": "new.example.org"}
			w.objects.put(wc)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultApplied))
			Expect(w.cluster.writes()).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))
	})

	Context("when the WarmCanonical is in data mode", func() {
		It("removes the services with RemoveServices (never Remove, which drops volumes), then leaves the stack alone", func(ctx SpecContext) {
			w.cluster.set("warm_app", v10, true)
			wc := warmCanonical("app", "latest")
			wc.Spec.Mode = v1.ModeData
			w.objects.put(wc)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultUndeployed))
			Expect(w.cluster.writes()).To(Equal([]string{"remove warm_app"}))
			Expect(ready(w.status("app")).Reason).To(Equal(v1.ReasonDataMode))
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultSkip))
			Expect(w.cluster.writes()).To(HaveLen(1))
			Expect(w.tester.requests()).To(BeEmpty())
		}, NodeTimeout(10*time.Second))
	})

	Context("when the new version is a MAJOR bump", func() {
		It("holds it until allowMajor", func(ctx SpecContext) {
			w.cluster.set("warm_app", v11, true)
			w.recipes.setTags(v10, v11, v20)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultHeld))
			Expect(ready(w.status("app")).Reason).To(Equal(v1.ReasonMajorUpgradeHeld))
			Expect(w.cluster.writes()).To(BeEmpty())
			Expect(w.tester.requests()).To(BeEmpty())

			wc := warmCanonical("app", "latest")
			wc.Spec.AllowMajor = true
			w.objects.put(wc)
			Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
			Expect(w.cluster.writes()).To(Equal([]string{"warm_app@" + v20}))
		}, NodeTimeout(10*time.Second))
	})
})
