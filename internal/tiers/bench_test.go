//go:build integration

package tiers_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// countingSwarm counts deploys on the way to the real Swarm.
type countingSwarm struct {
	*swarm.Client
	deploys atomic.Int64
}

func (c *countingSwarm) Deploy(ctx context.Context, s *swarm.Stack, opts swarm.DeployOptions) (swarm.DeployResult, error) {
	c.deploys.Add(1)
	return c.Client.Deploy(ctx, s, opts)
}

// BenchmarkRun measures a whole run of the healthy sample version with every tier: wall time
// per run and per tier (s/<tier>), and deploys per run. Run it with -benchtime=1x: one run
// takes tens of seconds.
func BenchmarkRun(b *testing.B) {
	repoPath, src, r, sw := benchSetup(b, "sample", fixtures.SampleRecipe)
	rt := v1.RecipeTest{Metadata: v1.ObjectMeta{Name: "sample"}, Spec: v1.RecipeTestSpec{
		Source: v1.Source{Git: repoPath}, Timeout: v1.Minutes(5),
		Tiers: []v1.Tier{
			{Name: v1.TierInstall}, {Name: v1.TierUpgrade}, {Name: v1.TierBackup}, {Name: v1.TierRestore},
			{Name: v1.TierCustom, Command: []string{"true"}}, {Name: v1.TierLint},
		},
	}}
	rt.Default()

	benchRuns(b, r, sw, tiers.Request{Spec: rt.Spec, Source: src, Ref: "1.1.0+1.1", KnownGood: "1.0.0+1.0"})
}

// BenchmarkRunPostgres measures a whole run of the database sample's good release on a real
// PostgreSQL 15, a row as the marker: wall time per run and per tier (s/<tier>), and deploys
// per run.
func BenchmarkRunPostgres(b *testing.B) {
	if err := fixtures.BuildPostgresImage(context.Background()); err != nil {
		b.Fatal(err)
	}
	repoPath, src, r, sw := benchSetup(b, "pg", fixtures.PostgresRecipe)
	rt := v1.RecipeTest{Metadata: v1.ObjectMeta{Name: "pg"}, Spec: v1.RecipeTestSpec{
		Source: v1.Source{Git: repoPath}, Timeout: v1.Minutes(10), Marker: pgMarker,
		Tiers: []v1.Tier{
			{Name: v1.TierLint}, {Name: v1.TierInstall}, {Name: v1.TierUpgrade, From: v1.FromPrevious},
			{Name: v1.TierBackup}, {Name: v1.TierRestore},
		},
	}}
	rt.Default()
	benchRuns(b, r, sw, tiers.Request{Spec: rt.Spec, Source: src, Ref: "1.1.0+15.0"})
}

// benchRuns runs req b.N times (a fresh run id and directory each) and reports wall time per
// run and per tier (s/<tier>) and deploys per run; the background teardown is not timed.
func benchRuns(b *testing.B, r *tiers.Runner, sw *countingSwarm, req tiers.Request) {
	ctx := context.Background()
	perTier := map[v1.TierName]time.Duration{}
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.RunID, req.RunDir = tiers.NewRunID(), b.TempDir()
		start := time.Now()
		rec, err := r.Run(ctx, req)
		total += time.Since(start)
		if err := r.WaitTeardowns(ctx); err != nil {
			b.Fatal(err)
		}
		if err != nil {
			b.Fatal(err)
		}
		if rec.Verdict != v1.VerdictPassed {
			b.Fatalf("run %s: %s: %s", rec.ID, rec.Verdict, rec.Message)
		}
		for _, t := range rec.Tiers {
			perTier[t.Name] += t.Duration.Duration
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(total.Seconds()/n, "s/run")
	b.ReportMetric(float64(sw.deploys.Load())/n, "deploys/run")
	for name, d := range perTier {
		b.ReportMetric(d.Seconds()/n, "s/"+string(name))
	}
}

// benchSetup builds the sample images, writes a recipe repository with makeRepo and returns it
// with its source and a runner counting deploys, labelled for this bench.
func benchSetup(b *testing.B, name string, makeRepo func(dir string) (string, error)) (string, *recipe.Source, *tiers.Runner, *countingSwarm) {
	ctx := context.Background()
	if err := fixtures.BuildSampleImages(ctx); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	repoPath, err := makeRepo(filepath.Join(dir, "recipe"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := recipe.Open(ctx, name, repoPath, recipe.Options{CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		b.Fatal(err)
	}
	client, err := swarm.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	sw := &countingSwarm{Client: client}
	return repoPath, src, tiers.NewRunner(sw, tiers.Options{Labels: map[string]string{v1.LabelTestSuite: "bench-" + tiers.NewRunID()}}), sw
}
