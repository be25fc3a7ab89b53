package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/reconcile"
)

// RecipeTestReconciler keeps a RecipeTest's status: Stalled while its file is invalid, Ready
// after the last run of its current spec. Its test runs are carried out by the RunPool. Each
// reconcile wakes the WarmCanonicals gated by the RecipeTest, so one that waited for a missing
// RecipeTest, or for a run, is reconciled as soon as the RecipeTest appears or the run ends.
type RecipeTestReconciler struct {
	// Objects is the desired state. Required.
	Objects Objects
	// Store holds status and runs. Required.
	Store StatusStore
	// Runs is the run pool (to tell live runs from crashed ones). Required.
	Runs *RunPool
	// Wake enqueues WarmCanonicals. Optional.
	Wake func(reconcile.Request)
	// Now is the clock. Optional. Defaults to time.Now.
	Now func() time.Time

	acks acks // triggers to acknowledge in status (acknowledge.go)
}

// Reconcile implements reconcile.Reconciler.
func (r *RecipeTestReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	unlock, err := r.Store.Lock(ctx, v1.KindRecipeTest, req.Name)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("lock RecipeTest %q: %w", req.Name, err)
	}
	defer func() { _ = unlock() }()
	var st v1.RecipeTestStatus
	_, _ = r.Store.Get(v1.KindRecipeTest, req.Name, &st)
	r.acks.apply(req.Name, &st.LastHandledReconcileAt)
	st.Runs = nil // the run history lives in the run records; see RecipeTestStatusOf
	rerr := r.reconcile(req.Name, &st)
	if err := r.Store.Put(v1.KindRecipeTest, req.Name, st); err != nil {
		return reconcile.Result{}, errors.Join(rerr, fmt.Errorf("write status of RecipeTest %q: %w", req.Name, err))
	}
	r.wakeGated(req.Name)
	var inv *InvalidError
	if errors.As(rerr, &inv) {
		return reconcile.Result{}, reconcile.Terminal(rerr)
	}
	return reconcile.Result{RequeueAfter: settleRequeue(r.Objects, v1.Key{Kind: v1.KindRecipeTest, Name: req.Name}, r.now())}, rerr
}

func (r *RecipeTestReconciler) reconcile(name string, st *v1.RecipeTestStatus) error {
	now := r.now()
	set := func(t string, ok bool, reason, msg string) {
		s := v1.ConditionFalse
		if ok {
			s = v1.ConditionTrue
		}
		st.Conditions.Set(v1.Condition{Type: t, Status: s, Reason: reason, Message: msg}, now)
	}
	obj, err := r.Objects.Get(v1.KindRecipeTest, name)
	var inv *InvalidError
	switch {
	case errors.As(err, &inv):
		set(v1.ConditionStalled, true, v1.ReasonInvalidSpec, err.Error())
		set(v1.ConditionReady, false, v1.ReasonInvalidSpec, err.Error())
		return err
	case err != nil:
		return err
	}
	noteFile(r.Objects, v1.Key{Kind: v1.KindRecipeTest, Name: name}, obj != nil, &st.Conditions, now)
	if obj == nil {
		return nil
	}
	st.Conditions.Remove(v1.ConditionStalled)
	h := obj.SpecHash()
	runs, err := LoadRuns(r.Store, name)
	if err != nil {
		return err
	}
	// Its goal is the summary of the runs of this spec: reached once they could be read.
	st.ObservedGeneration = h
	for _, run := range runs {
		if run.SpecHash != h {
			continue
		}
		switch {
		case run.Verdict == v1.VerdictRunning && r.Runs.Active(run.ID):
			set(v1.ConditionReconciling, true, v1.ReasonTesting, fmt.Sprintf("run %s of %s in progress", run.ID, orNone(run.Version)))
			return nil
		case run.Verdict == v1.VerdictPassed:
			set(v1.ConditionReady, true, v1.ReasonTestsPassed, fmt.Sprintf("run %s of %s passed", run.ID, run.Version))
		case run.Verdict == v1.VerdictFailed:
			set(v1.ConditionReady, false, v1.ReasonTestsFailed, fmt.Sprintf("run %s of %s failed: %s", run.ID, orNone(run.Version), run.Message))
		default:
			continue
		}
		set(v1.ConditionReconciling, false, v1.ReasonProgressing, "no run in progress")
		return nil
	}
	set(v1.ConditionReconciling, false, v1.ReasonProgressing, "no run of the current spec yet")
	return nil
}

// wakeGated enqueues every WarmCanonical whose spec.recipeTest names this RecipeTest.
func (r *RecipeTestReconciler) wakeGated(name string) {
	if r.Wake == nil {
		return
	}
	for _, n := range GatedBy(r.Objects, name) {
		r.Wake(reconcile.Request{Kind: v1.KindWarmCanonical, Name: n})
	}
}

// RecipeTestStatusOf returns the stored status of a RecipeTest with its run history.
func RecipeTestStatusOf(s StatusStore, name string) (v1.RecipeTestStatus, error) {
	var st v1.RecipeTestStatus
	if _, err := s.Get(v1.KindRecipeTest, name, &st); err != nil {
		return st, err
	}
	runs, err := LoadRuns(s, name)
	st.Runs = runs
	return st, err
}

func (r *RecipeTestReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
