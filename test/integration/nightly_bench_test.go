//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
//
// It runs twice: with the sample recipe as the tests use it (healthchecks every second, 44
// containers checked each second saturate this machine's two cores with the checks' processes
// alone) and with the healthchecks every 10 s, the shortest interval of the catalogue recipes in
// ../shared/corpus/recipes (the others use 15 s and 30 s).
func BenchmarkNightly20(b *testing.B) {
	for _, interval := range []string{"1s", "10s"} {
		b.Run("healthcheck="+interval, func(b *testing.B) { benchmarkNightly(b, interval) })
	}
}

func benchmarkNightly(b *testing.B, interval string) {
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
			repo, version, err := nightlyRecipe(filepath.Join(dir, fmt.Sprintf("recipe-%02d", r)), interval)
			if err != nil {
				b.Fatal(err)
			}
			stack := fmt.Sprintf("warm_n%s_%02d", id, r)
			stacks = append(stacks, stack)
			fmt.Fprintf(&docs, "---\napiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata:\n  name: r%02d\nspec:\n  recipe: r%02d\n  source:\n    git: %s\n  tiers: [{name: install}]\n---\napiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: r%02d\nspec:\n  version: %q\n  stack: %s\n", r, r, repo, r, version, stack)
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
		promoted := map[string]time.Time{}
		failed, err := r.Sweep(ctx, func(l controllers.SweepLine) {
			promoted[l.Name] = time.Now()
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
		var waits []time.Duration // from a run's end to its app's promotion
		first, last := start.Add(wall), start
		for n := range nightlyRecipes {
			runs, err := controllers.LoadRuns(st, fmt.Sprintf("r%02d", n))
			if err != nil || len(runs) == 0 || runs[0].FinishedAt == nil {
				b.Fatalf("r%02d: no finished run: %v", n, err)
			}
			run := runs[0]
			sum += run.FinishedAt.Sub(run.StartedAt)
			first, last = minTime(first, run.StartedAt), maxTime(last, *run.FinishedAt)
			waits = append(waits, promoted[fmt.Sprintf("r%02d", n)].Sub(*run.FinishedAt))
			fmt.Printf("  r%02d: run from %5.1f s to %5.1f s, promoted at %5.1f s\n", n, run.StartedAt.Sub(start).Seconds(),
				run.FinishedAt.Sub(start).Seconds(), promoted[fmt.Sprintf("r%02d", n)].Sub(start).Seconds())
		}
		slices.Sort(waits)
		fmt.Printf("  from a run's end to its app's promotion: median %.1f s, max %.1f s\n",
			waits[len(waits)/2].Seconds(), waits[len(waits)-1].Seconds())
		// The runs' own overlap (sum over the span from the first start to the last end) apart
		// from what the sweep adds around them: resolving and queueing before, promotions after.
		fmt.Printf("  runs span %.1f s (first starts at %.1f s), overlap %.2f-fold; sweep ends %.1f s after the last run\n",
			last.Sub(first).Seconds(), first.Sub(start).Seconds(), sum.Seconds()/last.Sub(first).Seconds(), start.Add(wall).Sub(last).Seconds())
		b.ReportMetric(wall.Seconds(), "s/sweep")
		b.ReportMetric(sum.Seconds(), "s/sum-of-runs")
		b.ReportMetric(wall.Seconds()/sum.Seconds(), "sweep/sum")
		fmt.Printf("BenchmarkNightly20/healthcheck=%s: %d recipes, --max-runs %d: sweep %.1f s, sum of its runs %.1f s, ratio %.2f\n",
			interval, nightlyRecipes, maxRuns, wall.Seconds(), sum.Seconds(), wall.Seconds()/sum.Seconds())
		b.StartTimer()
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// nightlyRecipe writes the sample recipe's repository into dir and returns it with the version
// to promote: 1.1.0+1.1, or with healthchecks every interval other than the sample's 1s, a
// release 1.1.1+1.1 on top of it that changes only the interval.
func nightlyRecipe(dir, interval string) (repo, version string, err error) {
	repo, err = fixtures.SampleRecipe(dir)
	if err != nil || interval == "1s" {
		return repo, tag11, err
	}
	const release = "1.1.1+1.1"
	if err := benchGit(repo, "checkout", "--quiet", "-b", "nightly", tag11); err != nil {
		return "", "", err
	}
	for _, f := range []string{"compose.yml", "compose.worker.yml"} {
		path := filepath.Join(repo, f)
		data, err := os.ReadFile(path)
		if err != nil {
			return "", "", err
		}
		edited := strings.ReplaceAll(string(data), "interval: 1s", "interval: "+interval)
		edited = strings.ReplaceAll(edited, "version=1.1.0+1.1", "version="+release)
		if edited == string(data) {
			return "", "", fmt.Errorf("%s: no healthcheck interval of 1s to change", path)
		}
		if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
			return "", "", err
		}
	}
	msg := "chore: publish " + release + " release"
	if err := benchGit(repo, "commit", "--quiet", "--all", "--message", msg); err != nil {
		return "", "", err
	}
	return repo, release, benchGit(repo, "tag", "--annotate", "--message", msg, release)
}

// benchGit runs git in dir, without the user's hooks or signing, as the fixtures do.
func benchGit(dir string, args ...string) error {
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgSign=false", "-c", "tag.gpgSign=false",
		"-c", "core.hooksPath=/dev/null", "-c", "user.name=bench", "-c", "user.email=bench@localhost"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}
