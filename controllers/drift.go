package controllers

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// driftMemo is the last drift comparison of one object: key says what it compared (the
// services' version indexes, the version, the specs), drift what it found; known is false when
// the comparison could not run.
type driftMemo struct {
	key   string
	drift []swarm.Drift
	known bool
}

// liveDrift compares the live services of the warm app with the spec a deploy of version would
// send (step 12), writing nothing. Any write to a service bumps its version index, so while
// the indexes, the version, the specs and the promoted digests are the ones last compared the
// answer is the one remembered, without an Engine API call: a no-op sweep stays at its two
// calls, and a standing drift is still decided afresh by every reconcile (a changed
// spec.drift included). known is false when the comparison failed; it is not tried again until
// something changes, so a check that cannot run does not cost every sweep a checkout. Across
// processes, the record of the last comparison that found the app converged answers the same
// (converged.go).
func (r *WarmCanonicalReconciler) liveDrift(ctx context.Context, o *observation, version string) (drift []swarm.Drift, known bool) {
	key := fmt.Sprintf("%s|%s|%s|%s|%s", indexSignature(o.observed), version, o.wc.SpecHash(), o.rt.SpecHash(), EnvDigest(o.in.Status.DeployedImages))
	if m, ok := r.driftChecked.Load(o.name); ok && m.(driftMemo).key == key {
		return m.(driftMemo).drift, m.(driftMemo).known
	}
	// What an earlier process found converged and nobody changed since needs no recipe.
	now := convergedNow(o, version, o.commit)
	if rec, ok := r.recordedConverged(o, now); ok {
		r.driftChecked.Store(o.name, driftMemo{key: key, known: rec.Compared})
		return nil, rec.Compared
	}
	drift, err := r.Cluster.Drift(ctx, r.app(o), version)
	if err != nil {
		logr.FromContextOrDiscard(ctx).Info("Drift check failed", "stack", o.wc.Spec.Stack, "error", err.Error())
	}
	// Written when the reconcile finds the app CONVERGED, never by a plan; an interrupted
	// comparison says nothing.
	if len(drift) == 0 && ctx.Err() == nil {
		now.Compared = err == nil
		o.converged = &now
	}
	r.driftChecked.Store(o.name, driftMemo{key: key, drift: drift, known: err == nil})
	return drift, err == nil
}

// indexSignature is the services of a stack with their version indexes, as one string.
func indexSignature(st swarm.StackState) string {
	var b strings.Builder
	for _, s := range st.Services {
		fmt.Fprintf(&b, "%s@%d;", s.Name, s.VersionIndex)
	}
	return b.String()
}

// correct is CORRECT: the applied spec of the version the warm app runs is deployed again over
// a hand edit (an update of the drifted services only) and waited for, through the one
// deploy-and-wait every write takes.
func (r *WarmCanonicalReconciler) correct(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	log := logr.FromContextOrDiscard(ctx)
	stack := o.wc.Spec.Stack
	what := driftText(p.Drift)
	out.drift = driftedNote("live services differ from the applied spec: " + what)
	r.begin(st, v1.ReasonProgressing, p.To, fmt.Sprintf("correcting drift of stack %s: %s", stack, what))
	if err := r.checkpoint(st, o, out); err != nil {
		return out, err
	}
	log.Info("Correcting drift of warm app", "stack", stack, "version", p.To)
	app := r.app(o)
	app.CorrectDrift = true
	failed, err := r.deployAndWait(ctx, st, o, out, app, p.To, 0)
	if err != nil {
		return out, fmt.Errorf("correct drift: %w", err)
	}
	// Drift is about the spec: the applied one is written back, whatever the rollout does.
	out.drift = undriftedNote("corrected: the applied spec was deployed again")
	if failed != nil {
		return r.settleFailure(ctx, out, st, o, p, failed, fmt.Sprintf("the corrected spec of %s did not converge on stack %s: %v", p.To, stack, failed))
	}
	recordDataNodes(st, o.after)
	out.drift = undriftedNote("corrected: " + what)
	out.Result, out.Message = ResultCorrected, "corrected drift: "+what
	log.Info("Corrected drift of warm app", "stack", stack, "version", p.To)
	return out, nil
}
