//go:build integration

package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// BenchmarkEditToApplied measures, in the daemon's wiring, the time from an edit of a
// WarmCanonical's spec.version to a version whose tests already passed to the moment Swarm holds
// the new service spec (the service's version label says the new version), and the time to
// Ready after it. Both versions were tested during the set-up, so each sample is a promotion on
// a passed gate: the edit costs a reconcile, a checkout from the cache and one service update.
func BenchmarkEditToApplied(b *testing.B) {
	docs := func(repo, version, stack string) string {
		return fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata: {name: sample}
spec:
  source: {git: %s}
  tiers: [{name: install}]
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata: {name: app}
spec: {recipeTest: sample, version: %q, stack: %s, interval: 1h}
`, repo, version, stack)
	}
	stack := "warm_bapply_" + randomID()
	d := startBenchDaemon(b, func(repo string) string { return docs(repo, tag10, stack) })
	d.stacks = []string{stack}
	promoted := func(want string) func(v1.WarmCanonicalStatus) bool {
		return func(st v1.WarmCanonicalStatus) bool {
			return st.KnownGoodVersion == want && readyIs(v1.ConditionTrue, "")(st)
		}
	}
	b.Log("set-up: the warm app promoted to both versions, each tested once")
	for _, v := range []string{tag10, tag11} {
		d.write(b, docs(d.repo, v, stack))
		d.await(b, "app", 5*time.Minute, promoted(v))
	}
	var applied, ready []time.Duration
	versions := []string{tag10, tag11}
	b.ResetTimer()
	for i := range b.N {
		for j := range benchSamples {
			want := versions[(i*benchSamples+j)%2]
			start := time.Now()
			d.write(b, docs(d.repo, want, stack))
			applied = append(applied, d.awaitServiceVersion(b, stack, want, time.Minute).Sub(start))
			d.await(b, "app", 2*time.Minute, promoted(want))
			ready = append(ready, time.Since(start))
		}
	}
	b.StopTimer()
	b.ReportMetric(percentile(applied, 50).Seconds()*1000, "ms/edit-to-applied-p50")
	b.ReportMetric(percentile(applied, 99).Seconds()*1000, "ms/edit-to-applied-p99")
	b.ReportMetric(percentile(ready, 50).Seconds(), "s/edit-to-ready-p50")
	fmt.Printf("BenchmarkEditToApplied: edit to Swarm spec applied p50 %.0f ms (p99 %.0f ms), to Ready p50 %.1f s, %d samples\n",
		percentile(applied, 50).Seconds()*1000, percentile(applied, 99).Seconds()*1000, percentile(ready, 50).Seconds(), len(applied))
}

// awaitServiceVersion polls Docker, every 2 ms, until every service of stack carries version
// in its version label, and returns when it first saw that; it fails the benchmark after
// timeout.
func (d *benchDaemon) awaitServiceVersion(b *testing.B, stack, version string, timeout time.Duration) time.Time {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	f := filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace+"="+stack))
	for {
		list, err := d.sw.Docker().ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
		seen := time.Now()
		if err == nil && len(list) > 0 && !slices.ContainsFunc(list, func(s swarm.Service) bool { return s.Spec.Labels[v1.VersionLabel(stack)] != version }) {
			return seen
		}
		select {
		case <-ctx.Done():
			b.Fatalf("stack %s: services not at %s after %s (last error: %v)", stack, version, timeout, err)
		case <-time.After(2 * time.Millisecond):
		}
	}
}
