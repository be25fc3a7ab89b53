//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/store"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// apiCallCounter counts the Engine API requests going through it.
type apiCallCounter struct {
	next  http.RoundTripper
	calls atomic.Int64
}

func (t *apiCallCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	t.calls.Add(1)
	return t.next.RoundTrip(r)
}

// BenchmarkEditToPromoted measures a WarmCanonical asked for the sample's 1.1.0+1.1 (install,
// backup and restore gate it) from the reconcile that notices the edit to the promoted warm
// app, in-process as the daemon does it, and the gap between the gating run's verdict and the
// promotion's start (the run's stacks are removed in the background since the verdict).
func BenchmarkEditToPromoted(b *testing.B) {
	ctx := context.Background()
	if err := fixtures.BuildSampleImages(ctx); err != nil {
		b.Fatal(err)
	}
	sw, err := ccciswarm.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	labels := map[string]string{v1.LabelTestSuite: "bench-" + randomID()}
	dir := b.TempDir()
	repo, err := fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		b.Fatal(err)
	}
	runner := tiers.NewRunner(sw, tiers.Options{Labels: labels})
	var total, gap time.Duration
	var stacks []string
	b.Cleanup(func() {
		_ = runner.WaitTeardowns(context.Background())
		for _, s := range stacks {
			_ = sw.Remove(context.Background(), s, true)
		}
	})
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		res := filepath.Join(dir, fmt.Sprintf("resources-%d", i))
		if err := os.MkdirAll(res, 0o755); err != nil {
			b.Fatal(err)
		}
		stack := fmt.Sprintf("warm_bench_%s_%d", randomID(), i)
		stacks = append(stacks, stack)
		doc := fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata:\n  name: rt%d\nspec:\n  recipe: sample\n  source:\n    git: %s\n  tiers: [{name: install}, {name: backup}, {name: restore}]\n---\napiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: wc%d\nspec:\n  recipeTest: rt%d\n  version: %q\n  stack: %s\n", i, repo, i, i, tag11, stack)
		if err := os.WriteFile(filepath.Join(res, "bench.yaml"), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
		objects := &controllers.Dir{Root: res}
		recipes := &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(dir, "state", "cache")}}
		pool := &controllers.RunPool{Objects: objects, Store: st, Recipes: recipes, Tester: runner, Context: ctx}
		r := &controllers.WarmCanonicalReconciler{Objects: objects, Store: st, Recipes: recipes, Runs: pool,
			Cluster: &controllers.SwarmCluster{Client: sw, Recipes: recipes, Labels: labels}}
		b.StartTimer()
		start := time.Now()
		out, err := r.Converge(ctx, fmt.Sprintf("wc%d", i), false)
		total += time.Since(start)
		if err != nil || out.Result != controllers.ResultPromoted {
			b.Fatalf("wc%d: %s %s %v", i, out.Result, out.Message, err)
		}
		b.StopTimer()
		runs, err := controllers.LoadRuns(st, fmt.Sprintf("rt%d", i))
		if err != nil || len(runs) == 0 || runs[0].FinishedAt == nil {
			b.Fatalf("no finished run: %v", err)
		}
		ps, err := controllers.Promotions(st, fmt.Sprintf("wc%d", i))
		if err != nil || len(ps) == 0 {
			b.Fatalf("no promotion: %v", err)
		}
		gap += ps[0].StartedAt.Sub(*runs[0].FinishedAt)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(total.Seconds()/n, "s/edit-to-promoted")
	b.ReportMetric(gap.Seconds()/n, "s/verdict-to-promotion-start")
}
