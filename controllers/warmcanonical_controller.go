package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/reconcile"
)

// WarmCanonicalReconciler drives WarmCanonicals through the eleven steps of the design: it
// decides with Decide and executes the plan one step at a time, persisting the status after
// every step so that a crash at any point resumes correctly.
type WarmCanonicalReconciler struct {
	// Objects is the desired state. Required.
	Objects Objects
	// Store holds status and run history. Required.
	Store StatusStore
	// Cluster is Swarm. Required.
	Cluster Cluster
	// Recipes opens recipe sources. Required.
	Recipes Recipes
	// Runs starts gating test runs. Required.
	Runs *RunPool
	// Now is the clock. Optional. Defaults to time.Now.
	Now func() time.Time
	// Wake enqueues an object; a WarmCanonical whose Ready changed wakes its dependents
	// (spec.dependsOn) through it. Optional: one-shot commands sweep in dependency order.
	Wake func(reconcile.Request)

	forced   sync.Map // name → struct{}: the next reconcile of name is forced
	acks     acks     // triggers to acknowledge in status (acknowledge.go)
	outcomes outcomes // settled outcomes for waiting triggers (await.go)
	// driftChecked holds, per object, the service version indexes of the last drift check.
	driftChecked sync.Map
}

// Outcome is what one reconcile of a WarmCanonical did.
type Outcome struct {
	// Name is the object.
	Name string
	// Plan is the decision taken; empty when the object could not be planned (invalid,
	// missing RecipeTest, unknown version, transient error).
	Plan Plan
	// Result is what happened.
	Result Result
	// Desired and Deployed are the versions after the reconcile.
	Desired, Deployed string
	// RunID is the test run the object waits for when Result is TESTING.
	RunID string
	// RecipeTest is the RecipeTest that gates the object, once known.
	RecipeTest string
	// Message explains the result.
	Message string
	// RequeueAfter is when the object wants to be looked at again.
	RequeueAfter time.Duration
	// Acknowledged lists the trigger tokens this reconcile handled (see Acknowledge).
	Acknowledged []string
	// ReadyChanged is true when the reconcile changed the Ready condition's status or reason.
	ReadyChanged bool

	// reason is the Ready reason the outcome leads to, a v1.Reason* constant.
	reason string
	// drift is what the reconcile learnt about drift; nil when nothing.
	drift *driftNote
}

// Force makes the next reconcile of name retry a failed version.
func (r *WarmCanonicalReconciler) Force(name string) { r.forced.Store(name, struct{}{}) }

// Reconcile implements reconcile.Reconciler.
func (r *WarmCanonicalReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	_, force := r.forced.LoadAndDelete(req.Name)
	out, err := r.ReconcileOnce(ctx, req.Name, force)
	// Settled: anything but a wait for a run; a wait without a run is the pause after an
	// aborted run, which a waiting trigger hears about now rather than minutes later.
	if out.ReadyChanged {
		r.wakeDependents(req.Name)
	}
	r.outcomes.handled(req.Name, out.Acknowledged)
	if out.Result != ResultTesting || out.RunID == "" {
		r.outcomes.settle(req.Name, out, err)
	}
	if out.Result == ResultInvalid {
		return reconcile.Result{}, reconcile.Terminal(err)
	}
	if s := settleRequeue(r.Objects, v1.Key{Kind: v1.KindWarmCanonical, Name: req.Name}, r.now()); s > 0 && (out.RequeueAfter == 0 || s < out.RequeueAfter) {
		out.RequeueAfter = s
	}
	return reconcile.Result{RequeueAfter: out.RequeueAfter}, err
}

// ReconcileOnce runs the reconcile of one WarmCanonical and says what it did. force retries a
// failed version. It holds the object's lock in the state directory while it works, so a
// one-shot command and the daemon never drive one stack at once.
func (r *WarmCanonicalReconciler) ReconcileOnce(ctx context.Context, name string, force bool) (out Outcome, err error) {
	out = Outcome{Name: name}
	unlock, err := r.Store.Lock(ctx, v1.KindWarmCanonical, name)
	if err != nil {
		return settle(out, fmt.Errorf("lock WarmCanonical %q: %w", name, err))
	}
	defer func() { _ = unlock() }()

	var st v1.WarmCanonicalStatus
	if _, gerr := r.Store.Get(v1.KindWarmCanonical, name, &st); gerr != nil {
		logr.FromContextOrDiscard(ctx).Error(gerr, "Unreadable status, starting afresh")
	}
	saved := cloneStatus(st)
	before := cloneStatus(st)
	acked := r.acks.apply(name, &st.LastHandledReconcileAt)
	// Status is patched in one place on the way out, whatever path the reconcile took.
	defer func() {
		if perr := r.persist(name, &saved, &st); perr != nil {
			err = errors.Join(err, perr)
		}
		out.Desired, out.Deployed, out.Acknowledged = st.DesiredVersion, st.DeployedVersion, acked
		was, _ := before.Conditions.Get(v1.ConditionReady)
		is, _ := st.Conditions.Get(v1.ConditionReady)
		out.ReadyChanged = was.Status != is.Status || was.Reason != is.Reason
	}()
	return r.reconcile(ctx, name, force, &st, &saved)
}

// persist writes st when it differs from what was last written and remembers it as written.
func (r *WarmCanonicalReconciler) persist(name string, saved *v1.WarmCanonicalStatus, st *v1.WarmCanonicalStatus) error {
	if statusEqual(*saved, *st) {
		return nil
	}
	if err := r.Store.Put(v1.KindWarmCanonical, name, st); err != nil {
		return fmt.Errorf("write status of WarmCanonical %q: %w", name, err)
	}
	*saved = cloneStatus(*st)
	return nil
}

// reconcile is the table of contents: observe (steps 1 to 4), decide (Decide, steps 2 and 5
// to 10), execute; the conditions are derived from what happened in one place (finalise), and
// the outcome from the error in another (settle).
func (r *WarmCanonicalReconciler) reconcile(ctx context.Context, name string, force bool, st *v1.WarmCanonicalStatus, saved *v1.WarmCanonicalStatus) (Outcome, error) {
	out := Outcome{Name: name}
	o, err := r.observe(ctx, name, force, st)
	if o != nil {
		out.RecipeTest, out.RequeueAfter = o.wc.Spec.RecipeTest, o.wc.Spec.Interval.Duration
		o.saved = saved
	}
	if err == nil {
		p := Decide(o.in)
		logr.FromContextOrDiscard(ctx).V(1).Info("Planned", "action", p.Action, "version", o.in.Desired, "stack", o.wc.Spec.Stack)
		out, err = r.execute(ctx, out, st, o, p)
	}
	r.finalise(st, o, out, err)
	return settle(out, err)
}

// observation is what steps 1 to 4 found: the input of Decide and what executing its plan
// needs.
type observation struct {
	name string
	wc   *v1.WarmCanonical
	rt   *v1.RecipeTest
	in   PlanInput
	// saved is the status last written, for the steps that persist before touching Swarm.
	saved *v1.WarmCanonicalStatus
	// recorded is true when the known-good record is of the version observed running.
	recorded bool
	// driftKnown is true when the live services were compared with the applied spec.
	driftKnown bool
	// commit is the commit the desired version's tag names now.
	commit string
	// converged is the record to write when the app is found CONVERGED (converged.go); nil
	// when no comparison with the recipe was made or it found drift.
	converged *ConvergedRecord
	// observed is the warm stack as step 4 saw it, before any write; after is the stack as
	// the last deploy-and-wait left it, converged.
	observed, after swarm.StackState
}

// observe is steps 1 to 4 and the gate: load, resolve, observe the stack, read the records.
// It writes nothing to Swarm; what it learns about the object goes into st. A suspended object
// is observed no further: nothing else changes what Decide makes of it.
func (r *WarmCanonicalReconciler) observe(ctx context.Context, name string, force bool, st *v1.WarmCanonicalStatus) (*observation, error) {
	// 1. Load, default, validate.
	wc, err := r.loadWarmCanonical(name)
	if err != nil {
		return nil, err
	}
	forgetFailedVersions(st, wc.SpecHash())
	o := &observation{name: name, wc: wc}
	o.in = PlanInput{Name: name, Mode: wc.Spec.Mode, AllowMajor: wc.Spec.AllowMajor, Rollback: wc.Spec.RollbackEnabled(), Force: force}
	// 2. Suspend.
	if o.in.Suspend, o.in.SuspendReason = r.suspended(wc); o.in.Suspend {
		o.in.Status = *st
		return o, nil
	}
	if o.rt, err = r.loadRecipeTest(wc); err != nil {
		return o, err
	}
	// 3. Resolve the desired version.
	desired, commit, err := r.resolve(ctx, wc, o.rt, st)
	if err != nil {
		return o, err
	}
	o.commit = commit
	// 4. Observe the stack.
	if o.observed, err = r.Cluster.ObserveStack(ctx, wc.Spec.Stack); err != nil {
		return o, fmt.Errorf("observe stack %q: %w", wc.Spec.Stack, err)
	}
	state := o.observed
	obs := Observed{Version: state.Version, Services: len(state.Services), Converged: len(state.Services) > 0 && state.Converged(), Problem: state.Problem()}
	st.DeployedVersion = obs.Version
	if obs.Services > 0 && st.KnownGoodVersion == "" && obs.Converged && obs.Version != "" {
		// A warm app found running healthy (deployed before this controller, or by hand) is
		// the best rollback target there is.
		st.KnownGoodVersion = obs.Version
	}
	// The env the running version last converged with, to tell an edited spec.env.
	rec, recorded, err := r.knownGood(name)
	if err != nil {
		return o, err
	}
	if !force {
		// A forced reconcile accepts the nodes the tasks run on now.
		errors.As(r.dataAway(ctx, st.DataNodes, state), &obs.DataAway)
	}
	o.recorded = recorded && rec.Version == obs.Version && obs.Version != ""
	o.in.Desired, o.in.Observed, o.in.Force = desired, obs, force
	o.in.EnvChanged = envChanged(rec, recorded, obs.Version, wc.Spec.Env)
	o.in.Applied = o.recorded
	o.in.Dependencies = r.dependencies(wc)
	o.in.DriftPolicy = wc.Spec.Drift
	if obs.Services > 0 && obs.Version == desired && !o.in.EnvChanged && (st.KnownGoodVersion == desired || obs.Converged) {
		// Compared on every reconcile, rolled out or rolling: a hand edit is drift from the
		// event that made it, never a promotion to resume. The comparison pins the digests
		// the app was promoted with (status.deployedImages), so other bytes under the same
		// tag are drift too.
		o.in.Status = *st
		o.in.Drift, o.driftKnown = r.liveDrift(ctx, o, desired)
	}
	if o.in.Gate, err = r.gate(ctx, o.wc, o.rt, desired, commit, *st); err != nil {
		return o, err
	}
	o.in.Status = *st
	return o, nil
}

// blockedError is an error no retry mends (a missing or invalid RecipeTest): the object is
// reported FAILED and woken when the cause changes, not retried by the queue.
type blockedError struct{ err error }

func (e *blockedError) Error() string { return e.err.Error() }
func (e *blockedError) Unwrap() error { return e.err }

func blocked(err error) error { return &blockedError{err: err} }

// settle derives the outcome of a reconcile from its error, the one place that does: no error
// keeps what the step said; a deleted object is skipped; an invalid one is Invalid (terminal
// for the queue); a missing RecipeTest or version is Failed and not retried; anything else is
// an Error the queue retries with backoff.
func settle(out Outcome, err error) (Outcome, error) {
	if err == nil {
		return out, nil
	}
	out.Message = err.Error()
	var inv *InvalidError
	var blk *blockedError
	switch {
	case errors.Is(err, errNotFound):
		// Deleted from the files: its stack is left alone; status stays for get/describe.
		out.Result = ResultSkip
		return out, nil
	case errors.As(err, &inv):
		out.Result = ResultInvalid
		return out, err
	case errors.As(err, &blk), errors.Is(err, recipe.ErrVersionNotFound):
		out.Result = ResultFailed
		return out, nil
	}
	out.Result = ResultError
	return out, err
}

// forgetFailedVersions forgets the versions that failed under another spec than the one
// hashed h.
func forgetFailedVersions(st *v1.WarmCanonicalStatus, h string) {
	under := st.FailedVersionsSpec
	if under == "" {
		// Written before FailedVersionsSpec: they were kept under the reconciled spec.
		under = st.ObservedGeneration
	}
	if under != h {
		st.FailedVersions = nil
	}
	st.FailedVersionsSpec = h
}

// execute carries out p, the one place that writes to Swarm, and says in the outcome what
// happened; finalise turns it into conditions.
func (r *WarmCanonicalReconciler) execute(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	out.Plan, out.Message, out.reason = p, p.Message, p.Reason
	switch p.Action {
	case ActionSkip:
		out.Result, out.RequeueAfter = ResultSkip, 0
	case ActionConverged:
		out.Result = ResultConverged
		if st.KnownGoodVersion != p.To || !o.recorded {
			// Found converged at a version we did not promote (by hand, or a promotion that
			// finished during a crash), or with no record of its env (recorded by an older
			// release): the current env is the best record of its config.
			if err := r.recordKnownGood(o.name, p.To, o.wc.Spec.Env); err != nil {
				return out, err
			}
		}
		st.KnownGoodVersion = p.To
		recordDataNodes(st, o.observed)
		switch {
		case o.driftKnown && len(o.in.Drift) > 0:
			// Adopted as it runs; what a deploy would change is reported.
			out.drift = driftedNote("live services differ from the applied spec: " + driftText(o.in.Drift))
		case o.driftKnown:
			out.drift = undriftedNote("the live stack runs as applied")
		}
		if o.converged != nil {
			r.recordConverged(ctx, o, *o.converged)
		}
	case ActionDrifted:
		// A report: nothing is written.
		out.Result = ResultDrifted
		out.drift = driftedNote("live services differ from the applied spec: " + driftText(p.Drift))
	case ActionCorrect:
		return r.correct(ctx, out, st, o, p)
	case ActionStalled:
		out.Result = ResultStalled
	case ActionUndeploy:
		return r.undeploy(ctx, out, st, o, p)
	case ActionHeld:
		out.Result = ResultHeld
	case ActionDegraded:
		out.Result = ResultDegraded
	case ActionFailed:
		out.Result = ResultFailed
		if !slices.Contains(st.FailedVersions, p.To) {
			st.FailedVersions = append(st.FailedVersions, p.To)
		}
		st.LastAttemptedVersion = p.To
	case ActionTest, ActionWait:
		return r.test(ctx, out, st, o, p)
	case ActionPromote:
		return r.promote(ctx, out, st, o, p)
	case ActionApply:
		return r.apply(ctx, out, st, o, p)
	case ActionRollback:
		return r.rollback(ctx, out, st, o, p)
	}
	return out, nil
}
