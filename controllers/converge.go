package controllers

import (
	"context"
	"fmt"
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

// Sweep converges every WarmCanonical in turn, in dependency order, calling each as soon as its line is known, and
// reports whether any failed.
func (r *WarmCanonicalReconciler) Sweep(ctx context.Context, each func(SweepLine)) (failed bool, err error) {
	names, err := r.Objects.List(kindWarmCanonical)
	if err != nil {
		return true, err
	}
	for _, n := range DependencyOrder(r.Objects, names) {
		start := time.Now()
		out, err := r.Converge(ctx, n, false)
		l := SweepLine{Outcome: out, Duration: time.Since(start), Err: err}
		if err != nil && out.Result == "" {
			l.Result = ResultError
		}
		if l.Result.Failed() {
			failed = true
		}
		if each != nil {
			each(l)
		}
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
	}
	return failed, nil
}
