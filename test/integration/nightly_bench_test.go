//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// nightlyRecipes is the number of enrolled recipes of BenchmarkNightly20.
const nightlyRecipes = 20

// BenchmarkNightly20 measures the nightly sweep of a host with 20 enrolled recipes that each
// have a new version: one one-shot sweep tests every version (install tier) and promotes it,
// with the run pool bounded by the swarm's capacity (the --max-runs default). It prints the
// sweep's wall-clock beside the sum of its runs' times: runs of different recipes overlap.
func BenchmarkNightly20(b *testing.B) {
	ctx := context.Background()
	if err := fixtures.BuildSampleImages(ctx); err != nil {
		b.Fatal(err)
	}
	sw, err := ccciswarm.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	nodes, err := sw.Nodes(ctx)
	if err != nil {
		b.Fatal(err)
	}
	maxRuns := controllers.MaxRunsFor(nodes)
	// b.Loop, not b.N: the function runs once, so -benchtime 3x is three sweeps, not four
	// (b.N first runs the function with 1, then with 3).
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		id := randomID()
		labels := map[string]string{v1.LabelTestSuite: "bench-" + id}
		dir := b.TempDir()
		res := filepath.Join(dir, "resources")
		if err := os.MkdirAll(res, 0o755); err != nil {
			b.Fatal(err)
		}
		var docs strings.Builder
		var stacks []string
		for r := range nightlyRecipes {
			repo, err := fixtures.SampleRecipe(filepath.Join(dir, fmt.Sprintf("recipe-%02d", r)))
			if err != nil {
				b.Fatal(err)
			}
			stack := fmt.Sprintf("warm_n%s_%02d", id, r)
			stacks = append(stacks, stack)
			fmt.Fprintf(&docs, "---\napiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata:\n  name: r%02d\nspec:\n  recipe: r%02d\n  source:\n    git: %s\n  tiers: [{name: install}]\n---\napiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: r%02d\nspec:\n  version: %q\n  stack: %s\n", r, r, repo, r, tag11, stack)
		}
		if err := os.WriteFile(filepath.Join(res, "nightly.yaml"), []byte(docs.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(filepath.Join(dir, "state"))
		if err != nil {
			b.Fatal(err)
		}
		runner := tiers.NewRunner(sw, tiers.Options{Labels: labels})
		b.Cleanup(func() {
			_ = runner.WaitTeardowns(context.Background())
			for _, s := range stacks {
				_ = sw.Remove(context.Background(), s, true)
			}
		})
		objects := &controllers.Dir{Root: res}
		recipes := &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(dir, "state", "cache")}}
		pool := &controllers.RunPool{Objects: objects, Store: st, Recipes: recipes, Tester: runner, Max: maxRuns, Context: ctx}
		r := &controllers.WarmCanonicalReconciler{Objects: objects, Store: st, Recipes: recipes, Runs: pool,
			Cluster: &controllers.SwarmCluster{Client: sw, Recipes: recipes, Labels: labels}}
		recipes.BeginPass()
		b.StartTimer()
		start := time.Now()
		failed, err := r.Sweep(ctx, func(l controllers.SweepLine) {
			if l.Result != controllers.ResultPromoted {
				b.Errorf("%s: %s %s %v", l.Name, l.Result, l.Message, l.Err)
			}
		})
		wall := time.Since(start)
		b.StopTimer()
		if err != nil || failed {
			b.Fatalf("sweep %d failed: %v", i, err)
		}
		var sum time.Duration
		for n := range nightlyRecipes {
			runs, err := controllers.LoadRuns(st, fmt.Sprintf("r%02d", n))
			if err != nil || len(runs) == 0 || runs[0].FinishedAt == nil {
				b.Fatalf("r%02d: no finished run: %v", n, err)
			}
			sum += runs[0].FinishedAt.Sub(runs[0].StartedAt)
		}
		b.ReportMetric(wall.Seconds(), "s/sweep")
		b.ReportMetric(sum.Seconds(), "s/sum-of-runs")
		b.ReportMetric(wall.Seconds()/sum.Seconds(), "sweep/sum")
		fmt.Printf("BenchmarkNightly20: %d recipes, --max-runs %d: sweep %.1f s, sum of its runs %.1f s, ratio %.2f\n",
			nightlyRecipes, maxRuns, wall.Seconds(), sum.Seconds(), wall.Seconds()/sum.Seconds())
		b.StartTimer()
	}
}
