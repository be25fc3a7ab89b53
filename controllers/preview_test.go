package controllers_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
)

// stateDigest summarises every file of the state directory except the recipe cache: a plan
// must leave it as it found it.
func stateDigest(dir string) string {
	var b strings.Builder
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/\n", rel)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %x\n", rel, sha256.Sum256(data))
		return nil
	})).To(Succeed())
	return b.String()
}

var _ = Describe("WarmCanonicalReconciler.Plan", func() {
	var (
		w   *world
		dir string
	)
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		w = newWorld(dir, recipeTest("app"), warmCanonical("app", "latest"))
	})

	// planThenReconcile plans, checks that the plan wrote nothing, reconciles once and returns
	// both decisions.
	planThenReconcile := func(ctx SpecContext, force bool) (controllers.Plan, controllers.Plan) {
		before, writes, runs := stateDigest(dir), len(w.cluster.writes()), len(w.tester.requests())
		planned, err := w.r.Plan(ctx, "app", force)
		Expect(err).NotTo(HaveOccurred())
		Expect(w.cluster.writes()).To(HaveLen(writes), "a plan makes no Swarm write")
		Expect(stateDigest(dir)).To(Equal(before), "a plan writes nothing to the state directory")
		Expect(w.tester.requests()).To(HaveLen(runs), "a plan starts no test run")
		done, err := w.r.ReconcileOnce(ctx, "app", force)
		Expect(err).NotTo(HaveOccurred())
		return planned.Plan, done.Plan
	}

	DescribeTable("plans exactly what the next reconcile then does, writing nothing",
		func(ctx SpecContext, setup func(w *world), force bool, want string) {
			setup(w)
			planned, done := planThenReconcile(ctx, force)
			Expect(planned.String()).To(Equal(want))
			Expect(done).To(Equal(planned))
		},
		Entry("nothing deployed: TEST", NodeTimeout(10*time.Second), func(*world) {}, false, "TEST "+v11),
		Entry("already deployed: CONVERGED", NodeTimeout(10*time.Second), func(w *world) { w.cluster.set("warm_app", v11, true) }, false, "CONVERGED"),
		Entry("a MAJOR bump: HELD", NodeTimeout(10*time.Second), func(w *world) {
			w.cluster.set("warm_app", v11, true)
			w.recipes.setTags(v10, v11, v20)
		}, false, "HELD "+v11+"→"+v20),
		Entry("a passed run: PROMOTE", NodeTimeout(10*time.Second), func(w *world) {
			w.cluster.set("warm_app", v10, true)
			now := time.Now().UTC()
			Expect(w.store.PutRun("app", "passed000001", v1.Run{ID: "passed000001", Version: v11, SpecHash: recipeTest("app").SpecHash(),
				Trigger: v1.TriggerPromotion, StartedAt: now, FinishedAt: &now, Verdict: v1.VerdictPassed})).To(Succeed())
		}, false, "PROMOTE "+v10+"→"+v11),
		Entry("a failed promotion not rolled back: ROLLBACK", NodeTimeout(10*time.Second), func(w *world) {
			w.cluster.set("warm_app", v11, false)
			Expect(w.store.Put(v1.KindWarmCanonical, "app", v1.WarmCanonicalStatus{
				ObservedGeneration: warmCanonical("app", "latest").SpecHash(),
				KnownGoodVersion:   v10, LastAttemptedVersion: v11, FailedVersions: []string{v11},
				Conditions: v1.Conditions{{Type: v1.ConditionReady, Status: v1.ConditionFalse, Reason: v1.ReasonPromotionFailed}},
			})).To(Succeed())
		}, false, "ROLLBACK "+v11+"→"+v10),
		Entry("a failed version, forced: TEST", NodeTimeout(10*time.Second), func(w *world) {
			w.cluster.set("warm_app", v10, true)
			Expect(w.store.Put(v1.KindWarmCanonical, "app", v1.WarmCanonicalStatus{
				ObservedGeneration: warmCanonical("app", "latest").SpecHash(),
				KnownGoodVersion:   v10, LastAttemptedVersion: v11, FailedVersions: []string{v11},
			})).To(Succeed())
		}, true, "TEST "+v11),
		Entry("suspended by an operator: SKIP", NodeTimeout(10*time.Second), func(w *world) {
			w.cluster.set("warm_app", v10, true)
			Expect(controllers.Suspend(w.store, "app", controllers.Suspension{Reason: "migrating by hand", By: "ops"})).To(Succeed())
		}, false, "SKIP"),
	)

	It("reports a failed version as FAILED without forcing", func(ctx SpecContext) {
		w.cluster.set("warm_app", v10, true)
		w.tester.fail[v11] = true
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultFailed))
		planned, done := planThenReconcile(ctx, false)
		Expect(planned.Action).To(Equal(controllers.ActionFailed))
		Expect(done).To(Equal(planned))
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("Suspension", func() {
	It("suspends a WarmCanonical until resumed, whatever its spec says", func(ctx SpecContext) {
		w := newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		w.cluster.set("warm_app", v10, true)

		By("suspending it: the reconcile skips, with the operator's reason in Reconciling")
		Expect(controllers.Suspend(w.store, "app", controllers.Suspension{Reason: "incident 42", By: "alice"})).To(Succeed())
		out, err := w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Result).To(Equal(controllers.ResultSkip))
		c, _ := w.status("app").Conditions.Get(v1.ConditionReconciling)
		Expect(c.Reason).To(Equal(v1.ReasonSuspended))
		Expect(c.Message).To(And(ContainSubstring("alice"), ContainSubstring("incident 42")))
		Expect(w.cluster.writes()).To(BeEmpty())
		Expect(w.tester.requests()).To(BeEmpty())

		By("resuming it: the next reconcile tests the new version")
		resumed, err := controllers.Resume(w.store, "app")
		Expect(err).NotTo(HaveOccurred())
		Expect(resumed).To(BeTrue())
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultTesting))

		By("resuming again: nothing to resume")
		Expect(controllers.Resume(w.store, "app")).To(BeFalse())
	}, NodeTimeout(10*time.Second))
})
