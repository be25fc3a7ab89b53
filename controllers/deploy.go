package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// test is step 8 when no passed run exists: start one (or join the running one) and return;
// the run pool wakes this object when the run ends.
func (r *WarmCanonicalReconciler) test(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	runID := p.RunID
	if p.Action == ActionTest {
		base := st.DeployedVersion
		if base == "" || base == p.To {
			base = st.KnownGoodVersion
		}
		id, err := r.Runs.Start(RunRequest{
			RecipeTest: o.rt.Metadata.Name, Ref: p.To, Version: p.To, Trigger: v1.TriggerPromotion,
			KnownGood: base, Owner: o.name,
		})
		if err != nil {
			return out, fmt.Errorf("start test run of %s: %w", p.To, err)
		}
		runID = id
		// A forced retry starts afresh: the version is no longer failed until this run says so.
		st.FailedVersions = slices.DeleteFunc(st.FailedVersions, func(v string) bool { return v == p.To })
		logr.FromContextOrDiscard(ctx).Info("Testing version before promotion", "version", p.To, "run", runID)
	}
	st.LastAttemptedVersion = p.To
	msg := fmt.Sprintf("waiting for test run %s of %s", runID, p.To)
	if p.Moved != "" {
		msg = p.Moved + "; " + msg
	}
	if runID == "" {
		msg = p.Message
		out.RequeueAfter = p.RetryAfter
	}
	r.begin(st, v1.ReasonTesting, p.To, msg)
	out.Result, out.RunID, out.Message = ResultTesting, runID, msg
	return out, nil
}

// promote is steps 9 and 10: deploy, wait, and move known-good only on success.
func (r *WarmCanonicalReconciler) promote(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	log := logr.FromContextOrDiscard(ctx)
	stack := o.wc.Spec.Stack
	st.LastAttemptedVersion = p.To
	r.begin(st, v1.ReasonPromoting, p.To, fmt.Sprintf("deploying %s to stack %s", p.To, stack))
	// Persist before touching Swarm: after a crash, step 5 or the resumed promotion finds
	// this mark and reports the promotion instead of starting another.
	if err := r.checkpoint(st, o, out); err != nil {
		return out, err
	}
	if err := r.recordPromotion(o.name, p, PromotionStarted); err != nil {
		return out, err
	}
	log.Info("Promoting warm app", "stack", stack, "from", p.From, "to", p.To, "commit", p.Commit)
	app := r.app(o)
	app.Commit, app.Images = p.Commit, p.Images
	failed, err := r.deployAndWait(ctx, st, o, out, app, p.To, o.wc.Spec.Soak.Duration)
	if swarm.IsEngineFailure(err) {
		// The engine failed, not the version: st.Progress keeps the promotion, so that once
		// the engine is back the queue's retry resumes it (step 5 reports it if it converged).
		err = because(v1.ReasonPromoting, fmt.Errorf("the Docker engine failed during the promotion of %s to stack %s; resuming once it answers: %w", p.To, stack, err))
	}
	if err != nil {
		return out, err
	}
	if failed == nil {
		st.KnownGoodVersion, st.DeployedVersion = p.To, p.To
		if p.Images != nil || st.DeployedImages != nil {
			st.DeployedImages = p.Images
		}
		recordDataNodes(st, o.after)
		msg := fmt.Sprintf("promoted from %s to %s", orNone(p.From), p.To)
		out.Result, out.Message, out.reason = ResultPromoted, msg, v1.ReasonPromoted
		log.Info("Promoted warm app", "stack", stack, "from", p.From, "to", p.To)
		r.pruneSecrets(ctx, stack)
		return out, errors.Join(r.recordPromotion(o.name, p, PromotionSucceeded), r.recordKnownGood(o.name, p.To, o.wc.Spec.Env))
	}
	return r.settleFailure(ctx, out, st, o, p, failed, fmt.Sprintf("%s did not converge on stack %s: %v", p.To, stack, failed))
}

// pruneSecrets removes, once a promotion or an apply converged, the secret versions no service
// of the stack uses any more (a bumped SECRET_<NAME>_VERSION). Only names are logged; a
// failure is logged, never a failed promotion, and the next promotion or apply tries again.
func (r *WarmCanonicalReconciler) pruneSecrets(ctx context.Context, stack string) {
	log := logr.FromContextOrDiscard(ctx)
	removed, err := r.Cluster.PruneSecrets(ctx, stack)
	if len(removed) > 0 {
		log.Info("Removed secret versions no service uses", "stack", stack, "secrets", removed)
	}
	if err != nil {
		log.Info("Could not remove unused secret versions", "stack", stack, "error", err.Error())
	}
}

// failVersion records that version did not converge: it is deployed, failed (not retried
// until the spec changes or a forced reconcile), and the status says why; persisted before
// any rollback touches Swarm.
func (r *WarmCanonicalReconciler) failVersion(st *v1.WarmCanonicalStatus, o *observation, out Outcome, version, msg string) (Outcome, error) {
	st.DeployedVersion = version
	if !slices.Contains(st.FailedVersions, version) {
		st.FailedVersions = append(st.FailedVersions, version)
	}
	out.Result, out.Message, out.reason = ResultFailed, msg, v1.ReasonPromotionFailed
	return out, r.checkpoint(st, o, out)
}

// deployAndWait is the one Swarm write of promote, apply and rollback: deploy app at version,
// wait for the stack to converge with its stateful tasks on the nodes holding their volumes,
// then, for a soak, watch it stay healthy. failed says the version did not converge (a verdict
// on the version); err is anything else (Swarm refused the deploy, the engine failed, the
// process is shutting down), which the queue retries and which moves no version.
func (r *WarmCanonicalReconciler) deployAndWait(ctx context.Context, st *v1.WarmCanonicalStatus, o *observation, out Outcome, app WarmApp, version string, soak time.Duration) (failed, err error) {
	stack := app.Stack
	if err := r.Cluster.Deploy(ctx, app, version); err != nil {
		err = fmt.Errorf("deploy %s to stack %s: %w", version, stack, err)
		if !swarm.IsEngineFailure(err) {
			err = because(v1.ReasonDeployFailed, err)
		}
		return nil, err
	}
	if app.CorrectDrift {
		// Drift is about the spec: once the applied one is written back, the live spec is the
		// applied spec, however long the rollout then takes.
		out.drift = undriftedNote("corrected: the applied spec was deployed again")
		if err := r.checkpoint(st, o, out); err != nil {
			return nil, err
		}
	}
	werr := r.Cluster.WaitConverged(ctx, stack, o.wc.Spec.Timeout.Duration)
	if werr != nil && ctx.Err() == nil && !swarm.IsEngineFailure(werr) {
		// An update Swarm paused because a node was drained under it is the node's doing.
		if gone := r.nodeGone(ctx, o); gone != nil {
			werr = fmt.Errorf("%w (%v)", gone, werr)
		}
	}
	if werr == nil {
		werr = r.checkLocality(ctx, o, stack)
	}
	if werr == nil && soak > 0 {
		r.begin(st, v1.ReasonPromoting, version, fmt.Sprintf("%s converged on stack %s; soaking for %s before it counts as known-good", version, stack, soak))
		if err := r.checkpoint(st, o, out); err != nil {
			return nil, err
		}
		werr = r.soak(ctx, o, stack, soak)
	}
	if ctx.Err() != nil || swarm.IsEngineFailure(werr) {
		// Shut down mid-wait, or the engine failed: no verdict on the version. A node that
		// went away, or no node able to run a task, stalls the app until a node can: named.
		var down *swarm.NodeDownError
		var unschedulable *swarm.UnschedulableError
		if errors.As(werr, &down) || errors.As(werr, &unschedulable) {
			werr = stalledBy(v1.ReasonNodeUnavailable, werr)
		}
		return nil, werr
	}
	return werr, nil
}

// apply deploys the version the warm app runs again with the edited spec.env and waits. It
// moves no version and records no promotion: on success the known-good record takes the new
// env; on failure the version joins failedVersions (cleared by the next edit of the spec, so
// the same env is not retried until then or a forced reconcile) and, with rollback on, the
// same version goes back with the env it last converged with.
func (r *WarmCanonicalReconciler) apply(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	log := logr.FromContextOrDiscard(ctx)
	stack := o.wc.Spec.Stack
	// A forced retry starts afresh: the version is no longer failed until this apply says so.
	st.FailedVersions = slices.DeleteFunc(st.FailedVersions, func(v string) bool { return v == p.To })
	// Notifications and describe name the version a failure is about by this field.
	st.LastAttemptedVersion = p.To
	// Progressing, not Promoting: a crash mid-apply must not be resumed as a promotion; the
	// next reconcile still sees the edited env and applies it again (a no-op deploy if done).
	r.begin(st, v1.ReasonProgressing, p.To, fmt.Sprintf("applying the edited spec.env to %s on stack %s", p.To, stack))
	if err := r.checkpoint(st, o, out); err != nil {
		return out, err
	}
	log.Info("Applying edited env to warm app", "stack", stack, "version", p.To)
	failed, err := r.deployAndWait(ctx, st, o, out, r.app(o), p.To, 0)
	if err != nil {
		return out, err
	}
	if failed == nil {
		st.KnownGoodVersion, st.DeployedVersion = p.To, p.To
		recordDataNodes(st, o.after)
		msg := fmt.Sprintf("applied the edited spec.env to %s", p.To)
		out.Result, out.Message, out.reason = ResultApplied, msg, v1.ReasonApplied
		log.Info("Applied edited env to warm app", "stack", stack, "version", p.To)
		r.pruneSecrets(ctx, stack)
		return out, r.recordKnownGood(o.name, p.To, o.wc.Spec.Env)
	}
	return r.settleFailure(ctx, out, st, o, p, failed, fmt.Sprintf("%s with the edited spec.env did not converge on stack %s: %v", p.To, stack, failed))
}

// rollback deploys the known-good version back after a failed promotion, with the env it
// converged with; after a failed apply that is the same version with its previous env.
// p.Message says what failed.
func (r *WarmCanonicalReconciler) rollback(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	stack := o.wc.Spec.Stack
	logr.FromContextOrDiscard(ctx).Info("Rolling back warm app", "stack", stack, "from", p.From, "to", p.To)
	app := r.app(o)
	app.Env = r.knownGoodEnv(o.name, p.To, app.Env)
	failed, err := r.deployAndWait(ctx, st, o, out, app, p.To, 0)
	if err != nil {
		return out, fmt.Errorf("roll back: %w", err)
	}
	if failed != nil {
		return r.settleFailure(ctx, out, st, o, p, failed, "")
	}
	st.DeployedVersion = p.To
	recordDataNodes(st, o.after)
	msg := fmt.Sprintf("%s; rolled back to known-good %s", p.Message, p.To)
	if p.From == p.To {
		msg = fmt.Sprintf("%s; rolled back to the env %s last converged with", p.Message, p.To)
	}
	out.Result, out.Message, out.reason = ResultRolledBack, msg, v1.ReasonPromotionFailed
	return out, nil
}

// undeploy removes the services of a data-mode app; its volumes stay.
func (r *WarmCanonicalReconciler) undeploy(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	if err := r.Cluster.RemoveServices(ctx, o.wc.Spec.Stack); err != nil {
		return out, fmt.Errorf("remove services of stack %q: %w", o.wc.Spec.Stack, err)
	}
	st.DeployedVersion = ""
	out.Result = ResultUndeployed
	return out, nil
}

func (r *WarmCanonicalReconciler) app(o *observation) WarmApp {
	// The digests the app was promoted with: an apply, a rollback or a drift correction
	// deploys the bytes that run, not what a tag names now.
	return WarmApp{Name: o.name, Stack: o.wc.Spec.Stack, Env: o.wc.Spec.Env, RecipeTest: o.rt, Secrets: o.wc.Spec.Secrets, Images: o.in.Status.DeployedImages}
}
