package controllers

import (
	"errors"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
)

// causeError is an error whose condition reason is known where it happens (a recipe source
// that did not answer, a deploy Swarm refused): the finaliser reports it under that reason.
type causeError struct {
	reason string
	// stalled marks the object Stalled with the reason: progress needs a person (a missing
	// RecipeTest) or a node (none can run a task), retried or not.
	stalled bool
	err     error
}

func (e *causeError) Error() string { return e.err.Error() }
func (e *causeError) Unwrap() error { return e.err }

// because gives err the condition reason it is reported under.
func because(reason string, err error) error { return &causeError{reason: reason, err: err} }

// stalledBy gives err a reason and marks the object Stalled with it.
func stalledBy(reason string, err error) error {
	return &causeError{reason: reason, stalled: true, err: err}
}

// driftNote is what a reconcile learnt about drift: the Drifted condition it leads to.
type driftNote struct {
	drifted bool
	reason  string
	message string
}

// drifted and undrifted are the notes a comparison or a correction leaves.
func driftedNote(msg string) *driftNote { return &driftNote{true, v1.ReasonSpecDrift, msg} }
func undriftedNote(msg string) *driftNote {
	return &driftNote{false, v1.ReasonNoDrift, msg}
}

// finalise settles the conditions and observedGeneration of one reconcile from what it did
// (out) and the error it ended with, the one place that writes them, as Flux's
// kustomize-controller does in its deferred patch. The steps record their outcome in out;
// none sets a condition. It is also how a step checkpoints work under way before it touches
// Swarm (out.Result empty, st.Progress set): status is persisted after every step (step 11).
//
// A retried error leaves Ready and Stalled as the last settled reconcile left them (a
// daemon hiccup must not turn a converged app and its dependents not Ready), unless its cause
// is known; Reconciling says ProgressingWithRetry, and st.Progress is kept, so the retry
// resumes the work. observedGeneration moves only when the reconcile reached its goal.
func (r *WarmCanonicalReconciler) finalise(st *v1.WarmCanonicalStatus, o *observation, out Outcome, err error) {
	c := conditionSetter{conds: &st.Conditions, now: r.now()}
	key := v1.Key{Kind: v1.KindWarmCanonical, Name: out.Name}
	switch {
	case errors.Is(err, errNotFound):
		noteFile(r.Objects, key, false, &st.Conditions, c.now)
		return
	case o != nil:
		noteFile(r.Objects, key, true, &st.Conditions, c.now)
	}
	if err != nil {
		finaliseError(c, st, err)
		return
	}
	if out.drift != nil {
		c.set(v1.ConditionDrifted, out.drift.drifted, out.drift.reason, out.drift.message)
	}
	msg := out.Message
	if out.Result != ResultStalled {
		st.Conditions.Remove(v1.ConditionStalled)
	}
	switch out.Result {
	case "":
		// A checkpoint: work under way, not settled yet.
		if st.Progress != nil {
			c.set(v1.ConditionReconciling, true, st.Progress.Reason, st.Progress.Message)
		}
		return
	case ResultTesting:
		c.set(v1.ConditionReady, false, v1.ReasonTesting, msg)
		c.set(v1.ConditionReconciling, true, v1.ReasonTesting, msg)
		return
	case ResultConverged, ResultPromoted, ResultApplied, ResultUndeployed:
		c.set(v1.ConditionReady, true, out.reason, msg)
	case ResultSkip:
		if out.reason == v1.ReasonDataMode {
			c.set(v1.ConditionReady, true, out.reason, msg)
		}
	case ResultCorrected:
		if ready, ok := st.Conditions.Get(v1.ConditionReady); !ok || ready.Status != v1.ConditionTrue {
			c.set(v1.ConditionReady, true, v1.ReasonAlreadyDeployed, "the warm app runs "+st.DeployedVersion+" and is converged")
		}
	case ResultDrifted:
		// A report: Ready stays what the app's health made it.
	case ResultStalled:
		c.set(v1.ConditionStalled, true, out.reason, msg)
		c.set(v1.ConditionReady, false, out.reason, msg)
	case ResultRolledBack:
		c.set(v1.ConditionReady, false, v1.ReasonPromotionFailed, msg)
	default: // HELD, DEGRADED, FAILED
		c.set(v1.ConditionReady, false, out.reason, msg)
	}
	reconciling := out.reason
	switch out.Result {
	case ResultRolledBack:
		reconciling = v1.ReasonRolledBack
	case ResultCorrected:
		reconciling = v1.ReasonProgressing
	}
	c.set(v1.ConditionReconciling, false, reconciling, msg)
	st.Progress = nil
	if reachedGoal(out) && o != nil {
		st.ObservedGeneration = o.wc.SpecHash()
	}
}

// finaliseError settles a reconcile that ended with err: an invalid spec stalls; an error no
// retry mends (a missing RecipeTest, an unknown version) settles Ready under its reason;
// anything else is retried.
func finaliseError(c conditionSetter, st *v1.WarmCanonicalStatus, err error) {
	msg := err.Error()
	var inv *InvalidError
	if errors.As(err, &inv) {
		c.set(v1.ConditionStalled, true, v1.ReasonInvalidSpec, msg)
		c.set(v1.ConditionReady, false, v1.ReasonInvalidSpec, msg)
		c.set(v1.ConditionReconciling, false, v1.ReasonInvalidSpec, msg)
		return
	}
	var cause *causeError
	errors.As(err, &cause)
	if cause != nil && cause.stalled {
		c.set(v1.ConditionStalled, true, cause.reason, msg)
	}
	if retried(err) {
		if cause != nil {
			c.set(v1.ConditionReady, false, cause.reason, msg)
		}
		c.set(v1.ConditionReconciling, true, v1.ReasonProgressingWithRetry, msg)
		return
	}
	reason := v1.ReasonVersionNotFound
	if cause != nil {
		reason = cause.reason
	}
	if cause == nil || !cause.stalled {
		st.Conditions.Remove(v1.ConditionStalled)
	}
	c.set(v1.ConditionReady, false, reason, msg)
	c.set(v1.ConditionReconciling, false, reason, msg)
	st.Progress = nil
}

// retried reports whether the queue retries a reconcile that ended with err: anything but a
// deleted or invalid object, a missing RecipeTest (blocked) or an unknown version.
func retried(err error) bool {
	var inv *InvalidError
	var blk *blockedError
	return err != nil && !errors.Is(err, errNotFound) && !errors.As(err, &inv) && !errors.As(err, &blk) && !errors.Is(err, recipe.ErrVersionNotFound)
}

// reachedGoal reports whether a settled reconcile realised its spec: the warm app runs its
// desired version as applied or reported, or a data-mode app keeps only its volumes.
func reachedGoal(out Outcome) bool {
	switch out.Result {
	case ResultConverged, ResultPromoted, ResultApplied, ResultCorrected, ResultDrifted, ResultUndeployed:
		return true
	case ResultSkip:
		return out.reason == v1.ReasonDataMode
	}
	return false
}

// conditionSetter sets conditions of one status at one time.
type conditionSetter struct {
	conds *v1.Conditions
	now   time.Time
}

func (c conditionSetter) set(t string, ok bool, reason, msg string) {
	s := v1.ConditionFalse
	if ok {
		s = v1.ConditionTrue
	}
	c.conds.Set(v1.Condition{Type: t, Status: s, Reason: reason, Message: msg}, c.now)
}

// begin records work under way (reason, about version) in st.Progress, keeping its start when
// the same work goes on.
func (r *WarmCanonicalReconciler) begin(st *v1.WarmCanonicalStatus, reason, version, msg string) {
	if p := st.Progress; p != nil && p.Reason == reason && p.Version == version {
		p.Message = msg
		return
	}
	st.Progress = &v1.Progress{Reason: reason, Version: version, Message: msg, Since: r.now()}
}

// checkpoint finalises what a step did so far and persists it before the step touches Swarm:
// after a crash the next reconcile finds the work under way.
func (r *WarmCanonicalReconciler) checkpoint(st *v1.WarmCanonicalStatus, o *observation, out Outcome) error {
	r.finalise(st, o, out, nil)
	return r.persist(o.name, o.saved, st)
}
