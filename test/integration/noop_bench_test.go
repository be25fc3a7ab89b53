//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/store"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// BenchmarkNoopSweep measures a one-shot sweep (what `ccci-controller sweep` from a systemd
// timer does: a fresh process, a fresh cache of nothing but the state directory) over 200 and
// 2,000 WarmCanonicals of one recipe that are all converged: stacks of one service scaled to
// zero, hand-deployed through the API at the desired version. It prints per pass the wall time,
// the processes started (git), the Engine API calls, and the resident memory of the process
// holding every object.
func BenchmarkNoopSweep(b *testing.B) {
	for _, n := range []int{200, 2000} {
		b.Run("apps="+strconv.Itoa(n), func(b *testing.B) { benchNoopSweep(b, n) })
	}
}

func benchNoopSweep(b *testing.B, apps int) {
	ctx := context.Background()
	id := randomID()
	suite := "bench-" + id
	labels := map[string]string{v1.LabelTestSuite: suite}
	counter := &apiCallCounter{next: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", dockerSocket())
	}}}
	sw, err := ccciswarm.NewClient(client.WithHTTPClient(&http.Client{Transport: counter}))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	repo, err := fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
	if err != nil {
		b.Fatal(err)
	}
	res := filepath.Join(dir, "resources")
	if err := os.MkdirAll(res, 0o755); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { removeSuiteServices(b, sw, suite) })
	b.Logf("creating %d stacks of one service scaled to zero", apps)
	var docs strings.Builder
	fmt.Fprintf(&docs, "apiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata:\n  name: bench\nspec:\n  recipe: sample\n  source:\n    git: %s\n", repo)
	stacks := make([]string, apps)
	for i := range apps {
		stacks[i] = fmt.Sprintf("bench_%s_%04d", id, i)
		fmt.Fprintf(&docs, "---\napiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: w%04d\nspec:\n  recipeTest: bench\n  version: %q\n  stack: %s\n", i, tag10, stacks[i])
	}
	if err := createZeroStacks(ctx, sw, stacks, suite); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(res, "bench.yaml"), []byte(docs.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	// sweep is one pass of a fresh one-shot process: nothing is kept in memory between passes.
	sweep := func() {
		st, err := store.Open(state)
		if err != nil {
			b.Fatal(err)
		}
		objects := &controllers.Dir{Root: res}
		recipes := &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(state, "cache")}}
		cluster := &controllers.SwarmCluster{Client: sw, Recipes: recipes, Labels: labels, Fresh: time.Minute}
		pool := &controllers.RunPool{Objects: objects, Store: st, Recipes: recipes}
		r := &controllers.WarmCanonicalReconciler{Objects: objects, Store: st, Cluster: cluster, Recipes: recipes, Runs: pool}
		recipes.BeginPass()
		if err := cluster.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
		failed, err := r.Sweep(ctx, func(l controllers.SweepLine) {
			if l.Result != controllers.ResultConverged {
				b.Fatalf("%s: %s %s %v", l.Name, l.Result, l.Message, l.Err)
			}
		})
		if err != nil || failed {
			b.Fatalf("sweep failed: %v", err)
		}
	}
	b.Log("first sweep: records every status")
	sweep()
	counter.calls.Store(0)
	procs := recipe.ProcessesStarted()
	cpu := cpuTime()
	start := time.Now()
	// b.Loop, not b.N: the function runs once, so the stacks are created once (at 2,000 they
	// took minutes, twice).
	passes := 0
	for b.Loop() {
		sweep()
		passes++
	}
	elapsed := time.Since(start)
	n := float64(passes)
	msPerPass := float64(elapsed.Milliseconds()) / n
	// On a shared machine the wall time mostly measures the others' load; the CPU time this
	// process and its git children spent is what the pass costs.
	cpuPerPass := float64((cpuTime() - cpu).Milliseconds()) / n
	procsPerPass := float64(recipe.ProcessesStarted()-procs) / n
	callsPerPass := float64(counter.calls.Load()) / n
	rss := residentMiB()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap := float64(ms.HeapInuse) / (1 << 20)
	b.ReportMetric(msPerPass, "ms/pass")
	b.ReportMetric(cpuPerPass, "cpu-ms/pass")
	b.ReportMetric(procsPerPass, "processes/pass")
	b.ReportMetric(callsPerPass, "api-calls/pass")
	b.ReportMetric(rss, "rss-MiB")
	b.ReportMetric(heap, "heap-MiB")
	fmt.Printf("BenchmarkNoopSweep apps=%d: %.0f ms per pass (%.0f ms of CPU), %.1f processes per pass, %.1f Engine API calls per pass, RSS %.1f MiB (heap in use %.1f MiB)\n",
		apps, msPerPass, cpuPerPass, procsPerPass, callsPerPass, rss, heap)
}

func dockerSocket() string {
	if s := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://"); s != "" {
		return s
	}
	return "/var/run/docker.sock"
}

// createZeroStacks creates one service scaled to zero per stack, labelled as deployed at tag10,
// four at a time (the shared engine serialises them in its raft log anyway).
func createZeroStacks(ctx context.Context, sw *ccciswarm.Client, stacks []string, suite string) error {
	docker := sw.Docker()
	zero := uint64(0)
	work := make(chan string)
	errs := make(chan error, len(stacks))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stack := range work {
				l := map[string]string{v1.LabelStackNamespace: stack, v1.VersionLabel(stack): tag10, v1.LabelTestSuite: suite}
				_, err := docker.ServiceCreate(ctx, swarm.ServiceSpec{
					Annotations:  swarm.Annotations{Name: stack + "_app", Labels: l},
					TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: fixtures.SampleImage("1.0")}},
					Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
					EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
				}, swarm.ServiceCreateOptions{})
				if err != nil {
					errs <- fmt.Errorf("create service of stack %s: %w", stack, err)
				}
			}
		}()
	}
	for _, s := range stacks {
		work <- s
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// removeSuiteServices removes every service carrying the benchmark's suite label, four at a
// time.
func removeSuiteServices(b *testing.B, sw *ccciswarm.Client, suite string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	docker := sw.Docker()
	list, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelTestSuite+"="+suite))})
	if err != nil {
		b.Errorf("list services of %s: %v", suite, err)
		return
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sid := range work {
				if err := docker.ServiceRemove(ctx, sid); err != nil {
					b.Errorf("remove service %s: %v", sid, err)
				}
			}
		}()
	}
	for _, s := range list {
		work <- s.ID
	}
	close(work)
	wg.Wait()
}

// cpuTime is the user and system time of this process and of its children that have ended.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) != nil {
		return 0
	}
	var t time.Duration
	for _, tv := range []syscall.Timeval{self.Utime, self.Stime, children.Utime, children.Stime} {
		t += time.Duration(tv.Nano())
	}
	return t
}

// residentMiB is this process's resident set size (VmRSS) in MiB, 0 when /proc says nothing.
func residentMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
