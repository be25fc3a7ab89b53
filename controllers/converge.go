package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// maxConvergePasses bounds the reconciles of one Converge: test, wait, promote, and a spare.
const maxConvergePasses = 5

const kindWarmCanonical = v1.KindWarmCanonical

// Converge reconciles one WarmCanonical to completion, the way one-shot commands need it: a
// test run the promotion needs is run and awaited, then the object is reconciled again, so the
// result is never TESTING. force retries a failed version (first pass only: starting the run
// clears the failure).
func (r *WarmCanonicalReconciler) Converge(ctx context.Context, name string, force bool) (Outcome, error) {
	var out Outcome
	var err error
	for range maxConvergePasses {
		out, err = r.ReconcileOnce(ctx, name, force)
		if err != nil || out.Result != ResultTesting {
			return out, err
		}
		if out.RunID == "" {
			// The last run was aborted a moment ago: report it rather than loop runs.
			out.Result = ResultError
			return out, nil
		}
		force = false
		run, werr := r.Runs.Wait(ctx, out.RecipeTest, out.RunID)
		if werr != nil && ctx.Err() != nil {
			return out, fmt.Errorf("wait for test run %s: %w", out.RunID, werr)
		}
		if run.Verdict == v1.VerdictAborted {
			out.Result, out.Message = ResultError, fmt.Sprintf("test run %s of %s was aborted: %s", run.ID, run.Version, run.Message)
			return out, nil
		}
	}
	return out, fmt.Errorf("WarmCanonical %q still %s after %d passes", name, out.Result, maxConvergePasses)
}

// SweepLine is one line of a sweep.
type SweepLine struct {
	Outcome
	// Duration is how long the object took.
	Duration time.Duration
	// Err is the error of the reconcile, if any.
	Err error
}

// DependencyOrder orders WarmCanonical names so that each comes after the ones its
// spec.dependsOn names (a fresh host's chain converges in one pass); otherwise by name. Names
// on a cycle (invalid, Stalled) keep their place.
func DependencyOrder(objects Objects, names []string) []string {
	deps := map[string][]string{}
	for _, n := range names {
		if obj, err := objects.Get(kindWarmCanonical, n); err == nil {
			if wc, ok := obj.(*v1.WarmCanonical); ok && wc != nil {
				deps[n] = wc.Spec.DependsOn
			}
		}
	}
	var out []string
	state := map[string]int{}
	var visit func(string)
	visit = func(n string) {
		if state[n] != 0 {
			return
		}
		state[n] = 1
		for _, d := range deps[n] {
			if _, known := deps[d]; known {
				visit(d)
			}
		}
		state[n] = 2
		out = append(out, n)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

// Sweep converges every WarmCanonical, in dependency order, calling each as soon as its line is
// known, and reports whether any failed. It reconciles every object once first, so that the
// test runs the pass needs start together and run side by side in the run pool (--max-runs);
// then it awaits and converges the objects that wait for a run side by side too, each as soon
// as its run ends (at most as many at once as the pool runs), and an object whose
// spec.dependsOn names one of them after that one. each is called one line at a time.
func (r *WarmCanonicalReconciler) Sweep(ctx context.Context, each func(SweepLine)) (failed bool, err error) {
	names, err := r.Objects.List(kindWarmCanonical)
	if err != nil {
		return true, err
	}
	var mu sync.Mutex
	emit := func(l SweepLine) {
		mu.Lock()
		defer mu.Unlock()
		if l.Err != nil && l.Result == "" {
			l.Result = ResultError
		}
		if l.Result.Failed() {
			failed = true
		}
		if each != nil {
			each(l)
		}
	}
	started := map[string]time.Time{}
	testing := map[string]Outcome{} // the objects whose run this pass started or joined
	var later []string
	for _, n := range DependencyOrder(r.Objects, names) {
		started[n] = r.now()
		if r.waitsOn(n, later) {
			later = append(later, n)
			continue
		}
		out, err := r.ReconcileOnce(ctx, n, false)
		if err == nil && out.Result == ResultTesting && out.RunID != "" {
			later = append(later, n)
			testing[n] = out
			continue
		}
		emit(SweepLine{Outcome: out, Duration: r.now().Sub(started[n]), Err: err})
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
	}
	r.convergeLater(ctx, later, testing, started, emit)
	if ctx.Err() != nil {
		return true, ctx.Err()
	}
	return failed, nil
}

// convergeLater converges the objects of the second half of a sweep side by side: a promotion
// is mostly waiting for Swarm, and one after the other they added up to most of a nightly pass.
// An object starts after the objects of later it depends on ended, as a serial pass would. An
// object whose run is going (testing) waits for it before it takes one of the slots: a slot
// held through a wait kept an object whose run had ended from promoting, and a nightly sweep
// ended most of a minute after its last run.
func (r *WarmCanonicalReconciler) convergeLater(ctx context.Context, later []string, testing map[string]Outcome, started map[string]time.Time, emit func(SweepLine)) {
	done := make(map[string]chan struct{}, len(later))
	for _, n := range later {
		done[n] = make(chan struct{})
	}
	slots := make(chan struct{}, max(1, r.Runs.Max))
	var wg sync.WaitGroup
	for _, n := range later {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[n])
			for _, d := range r.dependsOn(n) {
				if ch, ok := done[d]; ok {
					select {
					case <-ch:
					case <-ctx.Done():
						return
					}
				}
			}
			if t, ok := testing[n]; ok {
				// Its verdict is read by Converge's reconcile; a failed wait is met there too.
				_, _ = r.Runs.Wait(ctx, t.RecipeTest, t.RunID)
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			out, err := r.Converge(ctx, n, false)
			<-slots
			emit(SweepLine{Outcome: out, Duration: r.now().Sub(started[n]), Err: err})
		}()
	}
	wg.Wait()
}

// waitsOn reports whether WarmCanonical name depends on one of the objects deferred to the
// second half of a sweep (later): it is converged after them, as a serial pass would.
func (r *WarmCanonicalReconciler) waitsOn(name string, later []string) bool {
	if len(later) == 0 {
		return false
	}
	return slices.ContainsFunc(r.dependsOn(name), func(d string) bool { return slices.Contains(later, d) })
}

// dependsOn is the spec.dependsOn of WarmCanonical name, nil when it cannot be loaded.
func (r *WarmCanonicalReconciler) dependsOn(name string) []string {
	obj, err := r.Objects.Get(kindWarmCanonical, name)
	wc, ok := obj.(*v1.WarmCanonical)
	if err != nil || !ok || wc == nil {
		return nil
	}
	return wc.Spec.DependsOn
}
