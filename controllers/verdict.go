package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// Verdict is what a deploy that did not converge says, the same whatever the action that made
// it (promote, apply, rollback, correct): node faults stall, recipe faults fail the version.
// Engine failures never reach a verdict: they are errors the queue retries (Aborted).
type Verdict string

// The verdicts of a failed deploy-and-wait.
const (
	// VerdictVersionFailed: the version (or the env applied with it) did not converge; it is
	// not deployed again until the spec changes, and is rolled back where there is something
	// to roll back to.
	VerdictVersionFailed Verdict = "VersionFailed"
	// VerdictDataNodeUnusable: a node holding a stateful service's data cannot run tasks; a
	// rollback would land away from the data too, so nothing more is deployed.
	VerdictDataNodeUnusable Verdict = "DataNodeUnusable"
	// VerdictUnschedulable: a placement constraint no node of the swarm satisfies; terminal
	// (Stalled) until the spec, the recipe or the nodes' labels change.
	VerdictUnschedulable Verdict = "Unschedulable"
)

// VerdictOf classifies the failure of a deploy-and-wait.
func VerdictOf(failed error) Verdict {
	var loc *swarm.LocalityError
	var constraint *swarm.ConstraintError
	switch {
	case errors.As(failed, &constraint):
		return VerdictUnschedulable
	case errors.As(failed, &loc) && len(loc.Unusable) > 0:
		return VerdictDataNodeUnusable
	}
	return VerdictVersionFailed
}

// settleFailure records the verdict on failed, a deploy-and-wait of p that did not converge
// (msg says so), and carries out what follows from it: a stall, or a failed version and its
// rollback. It is the one place that turns a failure into status.
func (r *WarmCanonicalReconciler) settleFailure(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan, failed error, msg string) (Outcome, error) {
	log := logr.FromContextOrDiscard(ctx)
	stack := o.wc.Spec.Stack
	switch VerdictOf(failed) {
	case VerdictDataNodeUnusable:
		var loc *swarm.LocalityError
		errors.As(failed, &loc)
		msg = fmt.Sprintf("%s of %s to stack %s stopped: %v; node %s cannot run tasks, so rolling back would not bring the data back; nothing more is deployed until the task runs where its data is",
			strings.ToLower(string(p.Action)), p.To, stack, failed, strings.Join(loc.Unusable, ", "))
		if p.Action != ActionRollback {
			st.DeployedVersion = p.To
		}
		out.Result, out.Message, out.reason = ResultStalled, msg, v1.ReasonDataNodeMoved
		log.Info("Deploy stalled", "stack", stack, "action", p.Action, "version", p.To, "nodes", loc.Unusable)
		return out, r.recordFailedPromotion(o, p)
	case VerdictUnschedulable:
		// Terminal: the version is not deployed again until the spec changes or a forced
		// reconcile, and Decide reports it Stalled meanwhile (see decideFailed).
		msg = fmt.Sprintf("%s of %s to stack %s cannot be scheduled: %v", strings.ToLower(string(p.Action)), p.To, stack, failed)
		st.DeployedVersion = p.To
		if !slices.Contains(st.FailedVersions, p.To) {
			st.FailedVersions = append(st.FailedVersions, p.To)
		}
		out.Result, out.Message, out.reason = ResultStalled, msg, v1.ReasonUnschedulable
		log.Info("Deploy unschedulable", "stack", stack, "action", p.Action, "version", p.To, "error", failed.Error())
		return out, r.recordFailedPromotion(o, p)
	}
	if p.Action == ActionRollback {
		msg = fmt.Sprintf("%s; rollback to %s did not converge either: %v", p.Message, p.To, failed)
		out.Result, out.Message, out.reason = ResultFailed, msg, v1.ReasonPromotionFailed
		return out, nil
	}
	out, err := r.failVersion(st, o, out, p.To, msg)
	if err != nil {
		return out, err
	}
	if err := r.recordFailedPromotion(o, p); err != nil {
		return out, err
	}
	log.Info("Deploy failed", "stack", stack, "action", p.Action, "version", p.To, "error", failed.Error())
	back, ok := rollbackOf(p, st.KnownGoodVersion, o.wc.Spec.RollbackEnabled())
	if !ok {
		return out, nil
	}
	back.Message = msg
	return r.rollback(ctx, out, st, o, back)
}

// rollbackOf is the rollback a failed p leads to: a promotion goes back to the known-good
// version, an apply to the env its version last converged with; a correction has nothing
// else to go back to.
func rollbackOf(p Plan, knownGood string, enabled bool) (Plan, bool) {
	switch {
	case !enabled:
		return Plan{}, false
	case p.Action == ActionApply:
		return Plan{Action: ActionRollback, From: p.To, To: p.To}, true
	case p.Action == ActionPromote && knownGood != "" && knownGood != p.To:
		return Plan{Action: ActionRollback, From: p.To, To: knownGood}, true
	}
	return Plan{}, false
}

// recordFailedPromotion closes the promotion history entry of a failed PROMOTE; other actions
// are not promotions and have none.
func (r *WarmCanonicalReconciler) recordFailedPromotion(o *observation, p Plan) error {
	if p.Action != ActionPromote {
		return nil
	}
	return r.recordPromotion(o.name, p, PromotionFailed)
}
