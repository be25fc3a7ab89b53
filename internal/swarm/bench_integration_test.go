//go:build integration

package swarm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// benchClient returns a counting client and a suite id for a benchmark, which runs outside the
// Ginkgo suite and so sets itself up.
func benchClient(b *testing.B) (*Client, *countingTransport, string) {
	b.Helper()
	ctx := context.Background()
	if err := buildTestImages(ctx); err != nil {
		b.Fatal(err)
	}
	c, ct, err := countingClient()
	if err != nil {
		b.Fatal(err)
	}
	return c, ct, "swarm-bench-" + randomSuffix()
}

// BenchmarkObserve measures Observe over N idle stacks; apicalls/op must not grow with N.
func BenchmarkObserve(b *testing.B) {
	c, ct, suite := benchClient(b)
	ctx := context.Background()
	var made []string
	b.Cleanup(func() { removeIdleStacks(context.Background(), c, made) })
	for _, n := range []int{1, 50, 200} {
		more, err := createIdleStacks(ctx, c, fmt.Sprintf("swb_%s_%d", suite[len(suite)-8:], n), n-len(made), suite)
		made = append(made, more...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			if _, err := c.Observe(ctx); err != nil { // warm the connection and version negotiation
				b.Fatal(err)
			}
			ct.reset()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Observe(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(ct.total())/float64(b.N), "apicalls/op")
		})
	}
}

// BenchmarkPromote compares a version change with Deploy + WaitConverged against `docker stack
// deploy` followed by polling until converged, on the same compose, alternating 1 -> 2 -> 1.
// It reports both latencies and their ratio (ours/cli; the aim is <= 1.10).
func BenchmarkPromote(b *testing.B) {
	c, _, suite := benchClient(b)
	ctx := context.Background()
	dir := b.TempDir()
	for _, f := range []string{"compose.yml", "motd.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata/stack", f))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ours, theirs := "swp_o_"+suite[len(suite)-8:], "swp_c_"+suite[len(suite)-8:]
	b.Cleanup(func() {
		_ = c.Remove(context.Background(), ours, true)
		_ = c.Remove(context.Background(), theirs, true)
	})
	load := func(stack, tag string) *Stack {
		s, err := Load(LoadOptions{WorkingDir: dir, StackName: stack, Env: map[string]string{
			"APP_IMAGE_TAG": tag, "RECIPE_VERSION": tag + ".0.0", "UNHEALTHY": "false",
			"SECRET_DB_PASSWORD_VERSION": "v1", "MOTD_VERSION": "v1",
		}})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	opts := DeployOptions{Role: v1.RoleTest, Labels: map[string]string{v1.LabelTestSuite: suite}}
	deployOurs := func(tag string) {
		o := opts
		o.Version = tag + ".0.0"
		if _, err := c.Deploy(ctx, load(ours, tag), o); err != nil {
			b.Fatal(err)
		}
		if err := c.WaitConverged(ctx, ours, 2*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	deployCLI := func(tag string) {
		s := load(theirs, tag)
		if out, err := execDockerEnv(ctx, s.Env, "stack", "deploy", "--resolve-image", "never", "--detach=true", "-c", filepath.Join(dir, "compose.yml"), theirs); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		if err := c.WaitConverged(ctx, theirs, 2*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	// The CLI needs the external secret; Deploy generates its own.
	if _, err := c.Deploy(ctx, load(theirs, "1"), opts); err != nil {
		b.Fatal(err)
	}
	deployOurs("1")
	deployCLI("1")
	var oursTotal, cliTotal time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tag := []string{"2", "1"}[i%2]
		start := time.Now()
		deployOurs(tag)
		oursTotal += time.Since(start)
		start = time.Now()
		deployCLI(tag)
		cliTotal += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(oursTotal.Milliseconds())/float64(b.N), "ours-ms/op")
	b.ReportMetric(float64(cliTotal.Milliseconds())/float64(b.N), "cli-ms/op")
	b.ReportMetric(float64(oursTotal)/float64(cliTotal), "ours/cli")
}
