package controllers

import (
	"fmt"
	"slices"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
)

// Decide is the WarmCanonical decision of steps 2 and 5 to 10 of the design, without side
// effects: the caller has loaded and validated the spec (1), resolved the version (3) and
// observed the stack (4); executing the plan is the reconciler's job. It reads the rows of
// decisions top to bottom and the first whose condition holds chooses the action: the order
// of the rows is the order of precedence, and each row is a case of the table tests.
//
// Step 5 holds only while the spec.env the warm app last converged with is the current one.
// When the operator edited spec.env and the app already runs the desired version, the plan is
// APPLY: the same version is deployed again with the new env. It is not gated by a test run:
// the version's tiers already passed, and they run on throw-away stacks with the RecipeTest's
// env, never the warm app's spec.env, so a new run could not judge the edit; the convergence
// wait (and the rollback to the previous env) is the check that can. A failed APPLY puts the
// version in failedVersions, which the spec hash clears on the next edit: the same env is not
// applied again until the spec changes or a forced reconcile, exactly as for a failed version.
func Decide(in PlanInput) Plan {
	f := factsOf(in)
	p := Plan{From: f.from, To: in.Desired}
	for _, row := range decisions {
		if row.when(f) {
			p = row.then(f, p)
			p.Rule = row.name
			return p
		}
	}
	panic("controllers: the last row of the decision table must always hold")
}

// DecisionRules names the rows of Decide's table in order, for the tests that cover each.
func DecisionRules() []string {
	names := make([]string, len(decisions))
	for i, row := range decisions {
		names[i] = row.name
	}
	return names
}

// decision is one row of the table: when its condition holds of the facts (and no row above
// it held), then makes the plan.
type decision struct {
	name string
	when func(f facts) bool
	then func(f facts, p Plan) Plan
}

// facts are the plan input with the judgements several rows share, derived once.
type facts struct {
	PlanInput
	st v1.WarmCanonicalStatus
	// from is the version running now, or the known-good one when nothing runs.
	from string
	// at: the desired version is the one observed; running: the stack has services.
	at, running bool
	// promoting: a promotion of the desired version was under way and did not settle.
	promoting bool
	// failed: the desired version failed under this spec, and the reconcile is not forced.
	failed bool
	// notReady is the first dependency that is not Ready=True; nil when every one is.
	notReady *Dependency
}

func factsOf(in PlanInput) facts {
	f := facts{PlanInput: in, st: in.Status, from: in.Observed.Version}
	if f.from == "" {
		f.from = in.Status.KnownGoodVersion
	}
	f.at = in.Observed.Version == in.Desired
	f.running = in.Observed.Services > 0
	f.promoting = promoting(in.Status)
	f.failed = slices.Contains(in.Status.FailedVersions, in.Desired) && !in.Force
	for i, d := range in.Dependencies {
		if !d.Known || d.Ready.Status != v1.ConditionTrue {
			f.notReady = &in.Dependencies[i]
			break
		}
	}
	return f
}

// decisions is the table of Decide, in order of precedence.
var decisions = []decision{
	{"suspended", func(f facts) bool { return f.Suspend }, func(f facts, p Plan) Plan {
		msg := f.SuspendReason
		if msg == "" {
			msg = "spec.suspend is true"
		}
		return p.with(ActionSkip, v1.ReasonSuspended, msg)
	}},
	{"data mode with services", func(f facts) bool { return f.Mode == v1.ModeData && f.running }, func(_ facts, p Plan) Plan {
		return p.with(ActionUndeploy, v1.ReasonDataMode, "data mode: removing the services, keeping the volumes")
	}},
	{"data mode", func(f facts) bool { return f.Mode == v1.ModeData }, func(_ facts, p Plan) Plan {
		return p.with(ActionSkip, v1.ReasonDataMode, "data mode: no services run, volumes kept")
	}},
	// Converged or not, a deploy now would write over an app running on empty data.
	{"data away from its node", func(f facts) bool { return f.Observed.DataAway != nil }, func(f facts, p Plan) Plan {
		return p.with(ActionStalled, v1.ReasonDataNodeMoved, fmt.Sprintf("%v; nothing is deployed over it (valid: run the task where its data is again, or move the data and accept the node it runs on with ccci-controller reconcile warmcanonical/%s --force)", f.Observed.DataAway, f.Name))
	}},
	// Before step 5: a hand rollout in progress is not converged, and must not be taken for
	// a promotion to resume or to start.
	{"drifted, correct", func(f facts) bool { return drifted(f) && f.DriftPolicy == v1.DriftCorrect }, func(f facts, p Plan) Plan {
		p.Drift = f.Drift
		return p.with(ActionCorrect, v1.ReasonSpecDrift, fmt.Sprintf("live services differ from the applied spec of %s (%s); spec.drift is correct: deploying the applied spec again", f.Desired, driftText(f.Drift)))
	}},
	{"drifted, report", drifted, func(f facts, p Plan) Plan {
		p.Drift = f.Drift
		return p.with(ActionDrifted, v1.ReasonSpecDrift, fmt.Sprintf("live services differ from the applied spec of %s: %s", f.Desired, driftText(f.Drift)))
	}},
	// Step 5: already there is converged, whoever deployed it. A promotion that finished
	// before a crash lands here too and is reported as Promoted.
	{"already deployed", func(f facts) bool {
		return f.at && f.Observed.Converged && !f.EnvChanged && !imagesChanged(f.PlanInput)
	}, decideConverged},
	// It converged and soaked at this version before, and then tasks failed: report it, write
	// nothing (a redeploy then rollback would loop).
	{"degraded", func(f facts) bool {
		return f.at && f.running && !f.Observed.Converged && f.Observed.Problem != "" && f.st.KnownGoodVersion == f.Desired && !f.promoting && !f.EnvChanged
	}, func(f facts, p Plan) Plan {
		return p.with(ActionDegraded, v1.ReasonDegraded, fmt.Sprintf("the warm app runs the known-good %s but is not healthy: %s", f.Desired, f.Observed.Problem))
	}},
	// Step 5b: something must be deployed, and a dependency is not Ready.
	{"dependency not ready", func(f facts) bool { return f.notReady != nil }, func(f facts, p Plan) Plan {
		d := f.notReady
		if !d.Known {
			return p.with(ActionHeld, v1.ReasonDependencyNotReady, fmt.Sprintf("dependency %s is not Ready: it has no status yet", d.Name))
		}
		return p.with(ActionHeld, v1.ReasonDependencyNotReady, fmt.Sprintf("dependency %s is not Ready (%s: %s)", d.Name, d.Ready.Reason, d.Ready.Message))
	}},
	// A promotion was interrupted before convergence: deploying again is a no-op on Swarm
	// when nothing changed, and waiting resumes it.
	{"interrupted promotion", func(f facts) bool { return f.at && f.st.LastAttemptedVersion == f.Desired && f.promoting }, func(_ facts, p Plan) Plan {
		return p.with(ActionPromote, v1.ReasonPromoting, "resuming an interrupted promotion")
	}},
	// Step 6, terminal: no node can run it under this spec; a rollback would hide the cause.
	{"failed, unschedulable", func(f facts) bool { return f.failed && unschedulable(f.st) }, func(f facts, p Plan) Plan {
		c, _ := f.st.Conditions.Get(v1.ConditionStalled)
		return p.with(ActionStalled, v1.ReasonUnschedulable, c.Message)
	}},
	// An APPLY failed and a crash came before its rollback: the same version goes back with
	// the env it last converged with.
	{"failed apply not rolled back", func(f facts) bool {
		return f.failed && f.EnvChanged && f.Rollback && f.st.KnownGoodVersion == f.Desired && f.at && !f.Observed.Converged
	}, func(f facts, p Plan) Plan {
		return p.with(ActionRollback, v1.ReasonPromotionFailed, fmt.Sprintf("the edited spec.env did not converge with %s; rolling back to its previous env", f.Desired))
	}},
	// A promotion failed and a crash came before its rollback.
	{"failed promotion not rolled back", func(f facts) bool {
		kg := f.st.KnownGoodVersion
		return f.failed && f.Rollback && kg != "" && kg != f.Desired && f.at
	}, func(f facts, p Plan) Plan {
		p.From, p.To = f.Observed.Version, f.st.KnownGoodVersion
		return p.with(ActionRollback, v1.ReasonPromotionFailed, fmt.Sprintf("%s failed; rolling back to known-good %s", f.Desired, p.To))
	}},
	{"failed", func(f facts) bool { return f.failed }, decideFailed},
	// No test gate and no MAJOR check: the version is the one running (see Decide).
	{"env changed", func(f facts) bool { return f.at && f.EnvChanged }, func(f facts, p Plan) Plan {
		return p.with(ActionApply, v1.ReasonApplied, fmt.Sprintf("spec.env changed since %s converged; deploying it again with the new env", f.Desired))
	}},
	{"major upgrade held", func(f facts) bool { return major(f.from, f.Desired) && !f.AllowMajor }, func(f facts, p Plan) Plan {
		return p.with(ActionHeld, v1.ReasonMajorUpgradeHeld,
			fmt.Sprintf("%s → %s is a MAJOR upgrade that may need a manual migration (valid: set spec.allowMajor: true to promote it)", f.from, f.Desired))
	}},
	{"tests passed", func(f facts) bool { return f.Gate.State == GatePassed }, func(f facts, p Plan) Plan {
		p.Commit, p.Images = f.Gate.Commit, f.Gate.Images
		return p.with(ActionPromote, v1.ReasonPromoting, fmt.Sprintf("run %s passed", f.Gate.RunID))
	}},
	{"tests running", func(f facts) bool { return f.Gate.State == GateRunning }, func(f facts, p Plan) Plan {
		p.RunID = f.Gate.RunID
		return p.with(ActionWait, v1.ReasonTesting, fmt.Sprintf("waiting for test run %s", f.Gate.RunID))
	}},
	{"tests aborted a moment ago", func(f facts) bool { return f.Gate.State == GateAborted && !f.Force }, func(f facts, p Plan) Plan {
		p.RetryAfter = f.Gate.RetryAfter
		return p.with(ActionWait, v1.ReasonTesting, fmt.Sprintf("test run %s of %s was aborted (%s); a new run starts in %s", f.Gate.RunID, f.Desired, f.Gate.Message, f.Gate.RetryAfter.Round(time.Second)))
	}},
	{"tests failed", func(f facts) bool { return f.Gate.State == GateFailed && !f.Force }, func(f facts, p Plan) Plan {
		return p.with(ActionFailed, v1.ReasonTestsFailed, fmt.Sprintf("test run %s of %s failed: %s", f.Gate.RunID, f.Desired, f.Gate.Message))
	}},
	{"image moved", func(f facts) bool { return f.Gate.Moved != "" && f.Gate.ImagesMoved }, func(f facts, p Plan) Plan {
		p.Moved = f.Gate.Moved
		return p.with(ActionTest, v1.ReasonTesting, fmt.Sprintf("%s; testing the new image before promotion", p.Moved))
	}},
	{"tag moved", func(f facts) bool { return f.Gate.Moved != "" }, func(f facts, p Plan) Plan {
		p.Moved = f.Gate.Moved
		return p.with(ActionTest, v1.ReasonTesting, fmt.Sprintf("%s; testing the new commit before promotion", p.Moved))
	}},
	{"untested", func(facts) bool { return true }, func(f facts, p Plan) Plan {
		return p.with(ActionTest, v1.ReasonTesting, fmt.Sprintf("testing %s before promotion", f.Desired))
	}},
}

// decideConverged is step 5's plan: its reason says who put the version there.
func decideConverged(f facts, p Plan) Plan {
	reason := v1.ReasonAlreadyDeployed
	if f.st.LastAttemptedVersion == f.Desired && f.promoting {
		reason = v1.ReasonPromoted
	} else if ready, ok := f.st.Conditions.Get(v1.ConditionReady); ok && (ready.Reason == v1.ReasonPromoted || ready.Reason == v1.ReasonApplied) && f.st.DeployedVersion == f.Desired {
		reason = ready.Reason
	}
	msg := fmt.Sprintf("the warm app runs %s and is converged", f.Desired)
	if f.Gate.Moved != "" && f.Gate.State == GatePassed {
		msg += "; " + f.Gate.Moved
	}
	return p.with(ActionConverged, reason, msg)
}

// decideFailed is step 6 once no rollback is due: the version stays failed, under the reason
// and message of its failure.
func decideFailed(f facts, p Plan) Plan {
	reason := v1.ReasonTestsFailed
	ready, ok := f.st.Conditions.Get(v1.ConditionReady)
	if ok && (ready.Reason == v1.ReasonPromotionFailed || ready.Reason == v1.ReasonRolledBack) {
		reason = v1.ReasonPromotionFailed
	}
	msg := fmt.Sprintf("%s failed under this spec and is not retried until the spec changes or a forced reconcile", f.Desired)
	if ok && ready.Status == v1.ConditionFalse && ready.Message != "" && (ready.Reason == v1.ReasonTestsFailed || ready.Reason == v1.ReasonPromotionFailed) {
		msg = ready.Message
	}
	return p.with(ActionFailed, reason, msg)
}

// drifted reports whether the known-good, desired version runs with live services that differ
// from its applied spec, and nothing else would deploy over them first.
func drifted(f facts) bool {
	return len(f.Drift) > 0 && f.Applied && f.at && f.st.KnownGoodVersion == f.Desired &&
		!f.EnvChanged && !f.promoting && !slices.Contains(f.st.FailedVersions, f.Desired)
}

// unschedulable reports whether the last deploy stalled on a constraint no node satisfies.
func unschedulable(st v1.WarmCanonicalStatus) bool {
	c, ok := st.Conditions.Get(v1.ConditionStalled)
	return ok && c.Status == v1.ConditionTrue && c.Reason == v1.ReasonUnschedulable
}

// promoting reports whether the stored status says a promotion was under way.
func promoting(st v1.WarmCanonicalStatus) bool {
	return st.Progress != nil && st.Progress.Reason == v1.ReasonPromoting
}

// major reports whether from → to raises the MAJOR number; unparsable or empty versions are
// never a MAJOR bump (nothing deployed yet means nothing to migrate).
func major(from, to string) bool {
	f, err := recipe.ParseVersion(from)
	if err != nil {
		return false
	}
	t, err := recipe.ParseVersion(to)
	if err != nil {
		return false
	}
	return recipe.IsMajorBump(f, t)
}
