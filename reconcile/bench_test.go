package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkQueueThroughput enqueues 10,000 distinct keys and waits until each was reconciled
// once by the default two workers running a no-op reconciler. It reports how fast keys are
// added (the Enqueue calls alone) and reconciled (end to end).
func BenchmarkQueueThroughput(b *testing.B) {
	const keys = 10_000
	reqs := make([]Request, keys)
	for i := range reqs {
		reqs[i] = Request{Kind: "RecipeTest", Name: "k" + strconv.Itoa(i)}
	}
	var reconciled atomic.Int64
	target := make(chan struct{}, 1)
	var want atomic.Int64
	m := NewManager(Options{})
	m.Register("RecipeTest", Func(func(context.Context, Request) (Result, error) {
		if reconciled.Add(1) == want.Load() {
			target <- struct{}{}
		}
		return Result{}, nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	var addTime time.Duration
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		want.Add(keys)
		t := time.Now()
		for _, r := range reqs {
			m.Enqueue(r)
		}
		addTime += time.Since(t)
		<-target
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(keys*b.N)/addTime.Seconds(), "adds/s")
	b.ReportMetric(float64(keys*b.N)/elapsed.Seconds(), "reconciles/s")
}

// BenchmarkEditToReconcile measures, over 200 edits, the time from writing a desired-state
// file to the start of the reconcile of the key it changed, through DirWatch (fsnotify,
// debounce, parse, digest comparison), the queue and a worker. It reports p50 and p99 in
// milliseconds; the target is p99 under 250 ms with the default 100 ms debounce. One op is the
// 200 edits (about 21 s, most of it debounce), so `-benchtime 1x` is all it needs.
func BenchmarkEditToReconcile(b *testing.B) {
	const files, edits = 10, 200
	dir := b.TempDir()
	for i := range files {
		writeResource(b, dir, i, 0)
	}
	started := make(chan Request, 16)
	m := NewManager(Options{})
	m.Register("RecipeTest", Func(func(_ context.Context, req Request) (Result, error) {
		started <- req
		return Result{}, nil
	}))
	m.AddSource(&DirWatch{Dir: dir, Parse: parseLines})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	for range files { // the initial load
		<-started
	}

	var latencies []time.Duration
	b.ResetTimer()
	for n := range b.N {
		for e := range edits {
			i := e % files
			want := Request{Kind: "RecipeTest", Name: "k" + strconv.Itoa(i)}
			t := time.Now()
			writeResource(b, dir, i, n*edits+e+1)
			select {
			case got := <-started:
				if got != want {
					b.Fatalf("edit %d: reconciled %s, want %s", e, got, want)
				}
				latencies = append(latencies, time.Since(t))
			case <-time.After(5 * time.Second):
				b.Fatalf("edit %d: %s not reconciled within 5s", e, want)
			}
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// writeResource writes file i holding one document, RecipeTest/k<i>, with the given value.
func writeResource(b *testing.B, dir string, i, value int) {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("r%d.yaml", i))
	if err := os.WriteFile(path, fmt.Appendf(nil, "RecipeTest/k%d: %d\n", i, value), 0o644); err != nil {
		b.Fatal(err)
	}
}
