package controllers_test

import (
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

var _ = Describe("A pass over converged warm apps of one source", func() {
	const apps = 200
	const sampleTag = "1.1.0+1.1"

	It("starts one git process, a fetch, in each new process", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		repo, err := fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
		Expect(err).NotTo(HaveOccurred())
		rt := recipeTest("sample")
		rt.Spec.Source.Git = repo
		objects, cluster := newObjects(rt), newCluster()
		for i := range apps {
			wc := warmCanonical(fmt.Sprintf("w%03d", i), sampleTag)
			wc.Spec.RecipeTest = "sample"
			wc.Spec.Stack = fmt.Sprintf("warm_w%03d", i)
			objects.put(wc)
			cluster.set(wc.Spec.Stack, sampleTag, true) // deployed by hand at the newest tag
		}
		st, err := store.Open(filepath.Join(dir, "state"))
		Expect(err).NotTo(HaveOccurred())
		// pass is a one-shot sweep of a fresh process: nothing is kept in memory between two.
		pass := func() int64 {
			recipes := &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(dir, "state", "cache")}}
			pool := &controllers.RunPool{Objects: objects, Store: st, Recipes: recipes, Tester: &fakeTester{}}
			DeferCleanup(pool.Shutdown)
			r := &controllers.WarmCanonicalReconciler{Objects: objects, Store: st, Cluster: cluster, Recipes: recipes, Runs: pool}
			before := recipe.ProcessesStarted()
			recipes.BeginPass()
			failed, err := r.Sweep(ctx, func(l controllers.SweepLine) {
				Expect(l.Result).To(Equal(controllers.ResultConverged), "%s: %s", l.Name, l.Message)
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(failed).To(BeFalse())
			return recipe.ProcessesStarted() - before
		}
		By("the first pass cloning the recipe and comparing each app with it once")
		Expect(cluster.driftCalls).To(BeZero())
		pass()
		Expect(cluster.driftCalls).To(Equal(apps))

		By("every later pass fetching the source once and reading nothing else through git")
		for range 2 {
			Expect(pass()).To(BeNumerically("<=", 1))
		}
		Expect(cluster.driftCalls).To(Equal(apps), "converged from the record, no comparison")
		Expect(cluster.writes()).To(BeEmpty())
		var wcst v1.WarmCanonicalStatus
		_, err = st.Get(v1.KindWarmCanonical, "w000", &wcst)
		Expect(err).NotTo(HaveOccurred())
		Expect(wcst.DesiredVersion).To(Equal(sampleTag))
	}, NodeTimeout(2*time.Minute))
})
