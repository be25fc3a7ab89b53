//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/store"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/reconcile"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// benchDaemon is the daemon's wiring in-process: the queue, the reconcilers, the run pool and
// Docker's events, on a resources directory of the benchmark's own. writes counts the Engine
// API requests that change something (anything but GET and HEAD).
type benchDaemon struct {
	dir, res, repo string
	labels         map[string]string
	sw             *ccciswarm.Client
	st             *store.Store
	mgr            *reconcile.Manager
	writes         *writeCounter
	runner         *tiers.Runner
	stacks         []string
	cancel         context.CancelFunc
	done           chan error
}

// writeCounter counts requests that are not reads, and keeps the last ones for the log.
type writeCounter struct {
	apiCallCounter
	mu   sync.Mutex
	last []string
}

func (t *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		t.calls.Add(1)
		t.mu.Lock()
		t.last = append(t.last, r.Method+" "+r.URL.Path)
		t.mu.Unlock()
	}
	return t.next.RoundTrip(r)
}

func (t *writeCounter) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls.Store(0)
	t.last = nil
}

func startBenchDaemon(b *testing.B, docs func(repo string) string) *benchDaemon {
	b.Helper()
	ctx := context.Background()
	if err := fixtures.BuildSampleImages(ctx); err != nil {
		b.Fatal(err)
	}
	socket := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if socket == "" {
		socket = "/var/run/docker.sock"
	}
	wc := &writeCounter{apiCallCounter: apiCallCounter{next: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}}
	sw, err := ccciswarm.NewClient(client.WithHTTPClient(&http.Client{Transport: wc}))
	if err != nil {
		b.Fatal(err)
	}
	d := &benchDaemon{dir: b.TempDir(), labels: map[string]string{v1.LabelTestSuite: "bench-" + randomID()}, sw: sw, writes: wc}
	d.res = filepath.Join(d.dir, "resources")
	if err := os.MkdirAll(d.res, 0o755); err != nil {
		b.Fatal(err)
	}
	if d.repo, err = fixtures.SampleRecipe(filepath.Join(d.dir, "recipe")); err != nil {
		b.Fatal(err)
	}
	d.write(b, docs(d.repo))
	if d.st, err = store.Open(filepath.Join(d.dir, "state")); err != nil {
		b.Fatal(err)
	}
	objects := &controllers.Dir{Root: d.res}
	recipes := &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(d.dir, "state", "cache")}}
	runner := tiers.NewRunner(sw, tiers.Options{Labels: d.labels})
	d.runner = runner
	runCtx, cancel := context.WithCancel(ctx)
	pool := &controllers.RunPool{Objects: objects, Store: d.st, Recipes: recipes, Tester: runner, Context: runCtx}
	wcr := &controllers.WarmCanonicalReconciler{Objects: objects, Store: d.st, Recipes: recipes, Runs: pool,
		Cluster: &controllers.SwarmCluster{Client: sw, Recipes: recipes, Labels: d.labels, Fresh: 2 * time.Second}}
	rtr := &controllers.RecipeTestReconciler{Objects: objects, Store: d.st, Runs: pool}
	d.mgr = reconcile.NewManager(reconcile.Options{Concurrency: 2})
	pool.Wake, rtr.Wake, wcr.Wake = d.mgr.Enqueue, d.mgr.Enqueue, d.mgr.Enqueue
	d.mgr.Register(v1.KindWarmCanonical, wcr)
	d.mgr.Register(v1.KindRecipeTest, rtr)
	d.mgr.AddSource(controllers.Events{Client: sw, Objects: objects})
	d.cancel, d.done = cancel, make(chan error, 1)
	go func() { d.done <- d.mgr.Start(runCtx) }()
	b.Cleanup(func() {
		d.cancel()
		<-d.done
		pool.Shutdown()
		_ = runner.WaitTeardowns(context.Background())
		for _, s := range d.stacks {
			_ = sw.Remove(context.Background(), s, true)
		}
	})
	return d
}

// write replaces the resource file and enqueues every object, as the directory watch does.
func (d *benchDaemon) write(b *testing.B, docs string) {
	b.Helper()
	tmp := filepath.Join(d.res, ".bench.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(docs), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.res, "bench.yaml")); err != nil {
		b.Fatal(err)
	}
	if d.mgr == nil {
		return
	}
	for req := range controllers.ParseKeys(filepath.Join(d.res, "bench.yaml"), []byte(docs)) {
		d.mgr.Enqueue(req)
	}
}

// status reads a WarmCanonical's status from the state directory.
func (d *benchDaemon) status(name string) v1.WarmCanonicalStatus {
	var st v1.WarmCanonicalStatus
	_, _ = d.st.Get(v1.KindWarmCanonical, name, &st)
	return st
}

// await polls until cond holds for the status of name, or fails the benchmark after timeout.
func (d *benchDaemon) await(b *testing.B, name string, timeout time.Duration, cond func(v1.WarmCanonicalStatus) bool) v1.WarmCanonicalStatus {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := d.status(name)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			r, _ := st.Conditions.Get(v1.ConditionReady)
			b.Fatalf("%s: condition not reached after %s (Ready=%s %s: %s)", name, timeout, r.Status, r.Reason, r.Message)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readyIs(status v1.ConditionStatus, reason string) func(v1.WarmCanonicalStatus) bool {
	return func(st v1.WarmCanonicalStatus) bool {
		r, ok := st.Conditions.Get(v1.ConditionReady)
		return ok && r.Status == status && (reason == "" || r.Reason == reason)
	}
}

// percentile returns the p-th percentile (0..100) of ds by the nearest-rank method.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// benchSamples is how many measurements each iteration of the daemon benchmarks takes.
const benchSamples = 5

// BenchmarkDependencyToPromotion measures, in the daemon's wiring, the time from a dependency's
// Ready turning True to the start of its dependent's promotion: the dependency's status change
// wakes the dependent through the queue. The dependent's versions passed their tests during the
// set-up, so each sample is a promotion on a passed gate.
func BenchmarkDependencyToPromotion(b *testing.B) {
	docs := func(repo, depVersion, appVersion, depStack, appStack string) string {
		return fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata: {name: sample}
spec:
  source: {git: %s}
  tiers: [{name: install}]
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata: {name: dep}
spec: {recipeTest: sample, version: %q, stack: %s, interval: 1h}
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata: {name: app}
spec: {recipeTest: sample, version: %q, stack: %s, interval: 1h, dependsOn: [dep]}
`, repo, depVersion, depStack, appVersion, appStack)
	}
	id := randomID()
	depStack, appStack := "warm_bdep_"+id, "warm_bapp_"+id
	d := startBenchDaemon(b, func(repo string) string { return docs(repo, tag10, tag10, depStack, appStack) })
	d.stacks = []string{depStack, appStack}
	write := func(depVersion, appVersion string) {
		d.write(b, docs(d.repo, depVersion, appVersion, depStack, appStack))
	}
	b.Log("set-up: both apps promoted, the dependent's two versions tested")
	write(tag10, tag10)
	d.await(b, "app", 5*time.Minute, func(st v1.WarmCanonicalStatus) bool {
		return st.KnownGoodVersion == tag10 && readyIs(v1.ConditionTrue, "")(st)
	})
	write(tag10, tag11)
	d.await(b, "app", 5*time.Minute, func(st v1.WarmCanonicalStatus) bool {
		return st.KnownGoodVersion == tag11 && readyIs(v1.ConditionTrue, "")(st)
	})
	var samples []time.Duration
	versions := []string{tag10, tag11}
	b.ResetTimer()
	for i := range b.N {
		for j := range benchSamples {
			b.StopTimer()
			want := versions[(i*benchSamples+j)%2]
			// The dependency is not Ready (its version is no tag), so the dependent is held.
			write("9.9.9+9.9", want)
			d.await(b, "app", time.Minute, readyIs(v1.ConditionFalse, v1.ReasonDependencyNotReady))
			before := len(d.promotions(b))
			b.StartTimer()
			write(tag10, want)
			d.await(b, "app", 2*time.Minute, func(st v1.WarmCanonicalStatus) bool {
				return st.KnownGoodVersion == want && readyIs(v1.ConditionTrue, "")(st)
			})
			b.StopTimer()
			ps := d.promotions(b)
			if len(ps) <= before {
				b.Fatalf("no new promotion of app to %s", want)
			}
			dep, _ := d.status("dep").Conditions.Get(v1.ConditionReady)
			samples = append(samples, ps[0].StartedAt.Sub(dep.LastTransitionTime))
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(percentile(samples, 50).Seconds(), "s/ready-to-promotion-p50")
	b.ReportMetric(percentile(samples, 99).Seconds(), "s/ready-to-promotion-p99")
	b.ReportMetric(float64(len(samples)), "samples")
}

func (d *benchDaemon) promotions(b *testing.B) []controllers.Promotion {
	ps, err := controllers.Promotions(d.st, "app")
	if err != nil {
		b.Fatal(err)
	}
	return ps
}

// BenchmarkDriftDetection measures, in the daemon's wiring with an interval of an hour, the
// time from a hand `docker service update` of a warm app to Drifted=True in its status (Docker's
// events wake the reconcile), and the Swarm writes of the idle daemon over 30 seconds, per
// minute.
func BenchmarkDriftDetection(b *testing.B) {
	id := randomID()
	stack := "warm_bdrift_" + id
	docs := fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata: {name: sample}
spec:
  source: {git: REPO}
  tiers: [{name: install}]
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata: {name: app}
spec: {recipeTest: sample, version: %q, stack: %s, interval: 1h}
`, tag11, stack)
	d := startBenchDaemon(b, func(repo string) string { return strings.Replace(docs, "REPO", repo, 1) })
	d.stacks = []string{stack}
	d.write(b, strings.Replace(docs, "REPO", d.repo, 1))
	d.await(b, "app", 5*time.Minute, func(st v1.WarmCanonicalStatus) bool {
		c, ok := st.Conditions.Get(v1.ConditionDrifted)
		return st.KnownGoodVersion == tag11 && ok && c.Status == v1.ConditionFalse
	})
	docker := d.sw.Docker()
	ctx := context.Background()
	edit := func(value string) time.Time {
		svc, _, err := docker.ServiceInspectWithRaw(ctx, stack+"_app", swarm.ServiceInspectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		spec := svc.Spec
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		spec.Labels["bench.hand-edit"] = value
		at := time.Now()
		if _, err := docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		return at
	}
	drifted := func(want bool) func(v1.WarmCanonicalStatus) bool {
		return func(st v1.WarmCanonicalStatus) bool {
			c, ok := st.Conditions.Get(v1.ConditionDrifted)
			return ok && (c.Status == v1.ConditionTrue) == want
		}
	}
	var samples []time.Duration
	b.ResetTimer()
	for i := range b.N {
		for j := range benchSamples {
			at := edit(fmt.Sprintf("%d-%d", i, j))
			d.await(b, "app", time.Minute, drifted(true))
			samples = append(samples, time.Since(at))
			b.StopTimer()
			// Undo the hand edit, by hand too: the next event finds no drift.
			svc, _, err := docker.ServiceInspectWithRaw(ctx, stack+"_app", swarm.ServiceInspectOptions{})
			if err != nil {
				b.Fatal(err)
			}
			spec := svc.Spec
			delete(spec.Labels, "bench.hand-edit")
			if _, err := docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
				b.Fatal(err)
			}
			d.await(b, "app", time.Minute, drifted(false))
			b.StartTimer()
		}
	}
	b.StopTimer()
	// The set-up's test stacks are removed in the background: that is not the idle daemon.
	if err := d.runner.WaitTeardowns(ctx); err != nil {
		b.Fatal(err)
	}
	const idle = 30 * time.Second
	d.writes.reset()
	time.Sleep(idle)
	d.writes.mu.Lock()
	if len(d.writes.last) > 0 {
		b.Logf("writes while idle: %v", d.writes.last)
	}
	d.writes.mu.Unlock()
	b.ReportMetric(percentile(samples, 50).Seconds(), "s/edit-to-drifted-p50")
	b.ReportMetric(percentile(samples, 99).Seconds(), "s/edit-to-drifted-p99")
	b.ReportMetric(float64(d.writes.calls.Load())*float64(time.Minute)/float64(idle), "idle-writes/min")
	b.ReportMetric(float64(len(samples)), "samples")
}
