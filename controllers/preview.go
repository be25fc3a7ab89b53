package controllers

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Plan returns what the next reconcile of the WarmCanonical name would do, without doing it:
// the same load, resolve, observe and gate as Reconcile, then Decide, but nothing is written
// to Swarm or to the status and run history, and no lock is taken (a plan may run beside the
// daemon). force plans a forced reconcile. Resolving `latest` may fetch the recipe's tags into
// the recipe cache, as any reconcile does.
//
// A run in progress in another process is seen as a record that says Running; since only the
// process running it knows it is alive, a plan made beside a daemon reports TEST where the
// daemon would WAIT (ask the daemon with --server to see its view).
func (r *WarmCanonicalReconciler) Plan(ctx context.Context, name string, force bool) (Outcome, error) {
	var st v1.WarmCanonicalStatus
	if _, err := r.Store.Get(v1.KindWarmCanonical, name, &st); err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "Unreadable status, planning afresh")
	}
	out := Outcome{Name: name}
	o, err := r.observe(ctx, name, force, &st)
	if o != nil {
		out.RecipeTest = o.wc.Spec.RecipeTest
	}
	if err == nil {
		out.Plan = Decide(o.in)
		out.Message = out.Plan.Message
	}
	out, err = settle(out, err)
	out.Desired, out.Deployed = st.DesiredVersion, st.DeployedVersion
	if err != nil {
		return out, fmt.Errorf("plan WarmCanonical %q: %w", name, err)
	}
	return out, nil
}
