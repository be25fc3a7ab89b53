package controllers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// Action is what the next reconcile of a WarmCanonical does.
type Action string

// The actions of a plan, as plan and sweep print them.
const (
	// ActionSkip does nothing: the object is suspended, or in data mode with nothing running.
	ActionSkip Action = "SKIP"
	// ActionConverged does nothing: the warm app runs the desired version and is converged.
	ActionConverged Action = "CONVERGED"
	// ActionTest starts a test run of the desired version.
	ActionTest Action = "TEST"
	// ActionWait waits for a test run of the desired version that is already running.
	ActionWait Action = "WAIT"
	// ActionPromote deploys the desired version and waits for convergence.
	ActionPromote Action = "PROMOTE"
	// ActionApply deploys the desired version, which the warm app already runs, again with the
	// edited spec.env and waits for convergence. It runs no tests: see Decide.
	ActionApply Action = "APPLY"
	// ActionHeld does nothing: a MAJOR bump waits for spec.allowMajor.
	ActionHeld Action = "HELD"
	// ActionDegraded does nothing: the known-good, desired version runs but is unhealthy, and no
	// rollback would help (nothing changed its version).
	ActionDegraded Action = "DEGRADED"
	// ActionStalled does nothing: a stateful task runs on another node than its data, and no
	// deploy would bring it back; a person must move the task or the data.
	ActionStalled Action = "STALLED"
	// ActionFailed does nothing: the desired version failed under this spec and is not retried.
	ActionFailed Action = "FAILED"
	// ActionRollback deploys the known-good version back after a failed promotion, or the same
	// version with the env it last converged with after a failed APPLY.
	ActionRollback Action = "ROLLBACK"
	// ActionUndeploy removes the services of a data-mode app, keeping its volumes.
	ActionUndeploy Action = "UNDEPLOY"
	// ActionDrifted does nothing: the warm app runs the known-good, desired version, but a
	// live service differs from its applied spec (a hand edit, rolled out or rolling) and
	// spec.drift is report. It is reported in the Drifted condition, never taken for a
	// promotion nor waited on.
	ActionDrifted Action = "DRIFTED"
	// ActionCorrect deploys the applied spec of the desired version again over a hand edit
	// (spec.drift: correct): an update of the drifted services only, waited for like a
	// promotion.
	ActionCorrect Action = "CORRECT"
)

// GateState is what the run history says about the test gate of one version.
type GateState string

// The states of the test gate.
const (
	// GateNone: no usable run; one must be started.
	GateNone GateState = "None"
	// GateRunning: a run of this version and RecipeTest spec is in progress.
	GateRunning GateState = "Running"
	// GatePassed: a run of this version and RecipeTest spec passed.
	GatePassed GateState = "Passed"
	// GateFailed: the run this object waited for failed.
	GateFailed GateState = "Failed"
	// GateAborted: the last run stopped without a verdict (timeout, infrastructure) a short
	// while ago; a new one starts after a pause rather than at once, so a broken host does not
	// loop test runs.
	GateAborted GateState = "Aborted"
)

// Gate is the test gate of the desired version.
type Gate struct {
	// State is the gate's state.
	State GateState
	// RunID is the run that decides it: the passed, running or failed run.
	RunID string
	// Message is the failed or aborted run's message.
	Message string
	// RetryAfter is, for an aborted run, how long to wait before starting another.
	RetryAfter time.Duration
	// Commit is, for a passed run, the commit it tested: the one a promotion deploys.
	Commit string
	// Moved says the tag moved since a run of it passed (from which commit to which), or an
	// image of that run moved in its registry.
	Moved string
	// Images are, for a passed run, the digests it tested (image reference → digest): what a
	// promotion deploys. ImagesMoved is true when the newest pass tested images whose tags
	// moved since (spec.images: follow): the version is tested again.
	Images      map[string]string
	ImagesMoved bool
}

// Observed is what Swarm says about the warm stack.
type Observed struct {
	// Version is the deployed version label, empty when the stack has no services.
	Version string
	// Services counts the stack's services.
	Services int
	// Problem says what is wrong when not converged (the first service's task error).
	Problem string
	// Converged is true when every service runs all its tasks and no update is in progress.
	Converged bool
	// DataAway names the stateful services that run on another node than the one holding
	// their data (see WarmCanonicalStatus.DataNodes), or on none while that node cannot run
	// them; nil when none does, or for a forced reconcile (which accepts the nodes).
	DataAway *swarm.LocalityError
}

// PlanInput is everything Decide needs. Callers fill it from the defaulted spec, the resolved
// version, the observed stack, the stored status and the gate.
type PlanInput struct {
	// Name is the WarmCanonical's, for the commands a message suggests.
	Name string
	// Suspend is true when spec.suspend or an operator's override (ccci-controller suspend)
	// says so; SuspendReason says which, and why. Mode, AllowMajor and Rollback are the
	// defaulted spec fields.
	Suspend       bool
	SuspendReason string
	Mode          v1.Mode
	AllowMajor    bool
	Rollback      bool
	// Desired is the resolved desired version.
	Desired string
	// Observed is the warm stack as Swarm shows it.
	Observed Observed
	// Status is the stored status, with FailedVersions already cleared if the spec changed.
	Status v1.WarmCanonicalStatus
	// EnvChanged is true when the known-good record says the observed version last converged
	// with another spec.env than the current one (see KnownGood): the operator edited the env
	// since. It is false when nothing is recorded for the observed version: a stack deployed by
	// hand, or before this record existed, is taken as deployed with the current env.
	EnvChanged bool
	// Force retries a failed version (a forced trigger).
	Force bool
	// Gate is the test gate of Desired.
	Gate Gate
	// Dependency says which WarmCanonical of spec.dependsOn is not Ready, and why; empty when
	// every one is.
	Dependency string
	// Drift lists the live services that differ from the spec applied at Desired; empty when
	// none does or when it was not compared (another version runs, or spec.env changed: the
	// next deploy replaces the live spec anyway). DriftPolicy is the defaulted spec.drift.
	Drift       []swarm.Drift
	DriftPolicy v1.DriftPolicy
	// Applied is true when the running version's applied spec is on record (we promoted or
	// applied it, or adopted it on an earlier pass): only then is a difference a hand edit. A
	// stack found running for the first time is adopted as it runs (CONVERGED), its
	// difference reported in the Drifted condition.
	Applied bool
}

// Plan is the decision for one WarmCanonical.
type Plan struct {
	// Action is what to do.
	Action Action
	// Reason is the Ready reason the action leads to, a v1.Reason* constant.
	Reason string
	// Message explains the decision to a human.
	Message string
	// From is the version running now (or the known-good one when nothing runs).
	From string
	// To is the version the action works towards: the desired one, or the known-good one for
	// a rollback.
	To string
	// RunID is the run a WAIT waits for; empty while a retry after an aborted run is due.
	RunID string
	// RetryAfter is when a WAIT without a run should be looked at again.
	RetryAfter time.Duration
	// Commit is the commit a PROMOTE deploys: the one its passed run tested. Empty for other
	// actions (and a resumed promotion): the commit the tag names now.
	Commit string
	// Moved says, for a TEST, that the tag moved since an earlier run of it passed.
	Moved string
	// Images are the digests a PROMOTE deploys (image reference → digest): its passed run's.
	Images map[string]string
	// Drift lists, for a DRIFTED or CORRECT, the drifted services and fields.
	Drift []swarm.Drift
}

// String renders the plan as plan prints it: SKIP, TEST x, PROMOTE x→y, ROLLBACK y→x,
// APPLY x (env changed), and ROLLBACK x (previous env) for a failed APPLY.
func (p Plan) String() string {
	switch {
	case p.Action == ActionTest || p.Action == ActionWait:
		return string(p.Action) + " " + p.To
	case p.Action == ActionApply:
		return string(p.Action) + " " + p.To + " (env changed)"
	case p.Action == ActionCorrect || p.Action == ActionDrifted:
		return string(p.Action) + " " + p.To + " (" + driftText(p.Drift) + ")"
	case p.Action == ActionRollback && p.From == p.To:
		return string(p.Action) + " " + p.To + " (previous env)"
	case p.Action == ActionPromote || p.Action == ActionRollback || p.Action == ActionHeld:
		from := p.From
		if from == "" {
			from = "(none)"
		}
		return string(p.Action) + " " + from + "→" + p.To
	}
	return string(p.Action)
}

// Decide is the WarmCanonical decision of steps 2 and 5 to 10 of the design, without side
// effects: the caller has loaded and validated the spec (1), resolved the version (3) and
// observed the stack (4); executing the plan is the reconciler's job.
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
	st := in.Status
	from := in.Observed.Version
	if from == "" {
		from = st.KnownGoodVersion
	}
	p := Plan{From: from, To: in.Desired}
	switch {
	case in.Suspend && in.SuspendReason != "":
		return p.with(ActionSkip, v1.ReasonSuspended, in.SuspendReason)
	case in.Suspend:
		return p.with(ActionSkip, v1.ReasonSuspended, "spec.suspend is true")
	case in.Mode == v1.ModeData && in.Observed.Services > 0:
		return p.with(ActionUndeploy, v1.ReasonDataMode, "data mode: removing the services, keeping the volumes")
	case in.Mode == v1.ModeData:
		return p.with(ActionSkip, v1.ReasonDataMode, "data mode: no services run, volumes kept")
	case in.Observed.DataAway != nil:
		// Converged or not, a deploy now would write over an app running on empty data.
		return p.with(ActionStalled, v1.ReasonDataNodeMoved, fmt.Sprintf("%v; nothing is deployed over it (valid: run the task where its data is again, or move the data and accept the node it runs on with ccci-controller reconcile warmcanonical/%s --force)", in.Observed.DataAway, in.Name))
	case drifted(in):
		// Before step 5: a hand rollout in progress is not converged, and must not be taken
		// for a promotion to resume or to start.
		p.Drift = in.Drift
		if in.DriftPolicy == v1.DriftCorrect {
			return p.with(ActionCorrect, v1.ReasonSpecDrift, fmt.Sprintf("live services differ from the applied spec of %s (%s); spec.drift is correct: deploying the applied spec again", in.Desired, driftText(in.Drift)))
		}
		return p.with(ActionDrifted, v1.ReasonSpecDrift, fmt.Sprintf("live services differ from the applied spec of %s: %s", in.Desired, driftText(in.Drift)))
	case in.Observed.Version == in.Desired && in.Observed.Converged && !in.EnvChanged && !imagesChanged(in):
		// Step 5: already there is converged, whoever deployed it. A promotion that finished
		// before a crash lands here too and is reported as Promoted.
		reason := v1.ReasonAlreadyDeployed
		if st.LastAttemptedVersion == in.Desired && promoting(st) {
			reason = v1.ReasonPromoted
		} else if ready, ok := st.Conditions.Get(v1.ConditionReady); ok && (ready.Reason == v1.ReasonPromoted || ready.Reason == v1.ReasonApplied) && st.DeployedVersion == in.Desired {
			reason = ready.Reason
		}
		msg := fmt.Sprintf("%s runs %s and is converged", "the warm app", in.Desired)
		if in.Gate.Moved != "" && in.Gate.State == GatePassed {
			msg += "; " + in.Gate.Moved
		}
		return p.with(ActionConverged, reason, msg)
	case in.Observed.Version == in.Desired && in.Observed.Services > 0 && !in.Observed.Converged && in.Observed.Problem != "" &&
		st.KnownGoodVersion == in.Desired && !promoting(st) && !in.EnvChanged:
		// It converged and soaked at this version before, and then tasks failed: report it,
		// write nothing (a redeploy then rollback would loop).
		return p.with(ActionDegraded, v1.ReasonDegraded, fmt.Sprintf("%s runs the known-good %s but is not healthy: %s", "the warm app", in.Desired, in.Observed.Problem))
	case in.Dependency != "":
		// Step 5b: something must be deployed, and a dependency is not Ready.
		return p.with(ActionHeld, v1.ReasonDependencyNotReady, in.Dependency)
	case in.Observed.Version == in.Desired && st.LastAttemptedVersion == in.Desired && promoting(st):
		// A promotion was interrupted before convergence: deploying again is a no-op on
		// Swarm when nothing changed, and waiting resumes it.
		return p.with(ActionPromote, v1.ReasonPromoting, "resuming an interrupted promotion")
	case slices.Contains(st.FailedVersions, in.Desired) && !in.Force:
		return decideFailed(p, in)
	case in.Observed.Version == in.Desired && in.EnvChanged:
		// No test gate and no MAJOR check: the version is the one running (see above).
		return p.with(ActionApply, v1.ReasonApplied, fmt.Sprintf("spec.env changed since %s converged; deploying it again with the new env", in.Desired))
	}
	if major(from, in.Desired) && !in.AllowMajor {
		return p.with(ActionHeld, v1.ReasonMajorUpgradeHeld,
			fmt.Sprintf("%s → %s is a MAJOR upgrade that may need a manual migration (valid: set spec.allowMajor: true to promote it)", from, in.Desired))
	}
	switch in.Gate.State {
	case GatePassed:
		p.Commit, p.Images = in.Gate.Commit, in.Gate.Images
		return p.with(ActionPromote, v1.ReasonPromoting, fmt.Sprintf("run %s passed", in.Gate.RunID))
	case GateRunning:
		p.RunID = in.Gate.RunID
		return p.with(ActionWait, v1.ReasonTesting, fmt.Sprintf("waiting for test run %s", in.Gate.RunID))
	case GateAborted:
		if !in.Force {
			p.RetryAfter = in.Gate.RetryAfter
			return p.with(ActionWait, v1.ReasonTesting, fmt.Sprintf("test run %s of %s was aborted (%s); a new run starts in %s", in.Gate.RunID, in.Desired, in.Gate.Message, in.Gate.RetryAfter.Round(time.Second)))
		}
	case GateFailed:
		if !in.Force {
			return p.with(ActionFailed, v1.ReasonTestsFailed, fmt.Sprintf("test run %s of %s failed: %s", in.Gate.RunID, in.Desired, in.Gate.Message))
		}
	}
	if p.Moved = in.Gate.Moved; p.Moved != "" && in.Gate.ImagesMoved {
		return p.with(ActionTest, v1.ReasonTesting, fmt.Sprintf("%s; testing the new image before promotion", p.Moved))
	}
	if p.Moved != "" {
		return p.with(ActionTest, v1.ReasonTesting, fmt.Sprintf("%s; testing the new commit before promotion", p.Moved))
	}
	return p.with(ActionTest, v1.ReasonTesting, fmt.Sprintf("testing %s before promotion", in.Desired))
}

// decideFailed handles step 6: a version that failed under this spec. A promotion that failed
// but was not rolled back yet (a crash between the two) is rolled back now.
func decideFailed(p Plan, in PlanInput) Plan {
	st := in.Status
	reason := v1.ReasonTestsFailed
	if r, ok := st.Conditions.Get(v1.ConditionReady); ok && (r.Reason == v1.ReasonPromotionFailed || r.Reason == v1.ReasonRolledBack) {
		reason = v1.ReasonPromotionFailed
	}
	if r, ok := st.Conditions.Get(v1.ConditionStalled); ok && r.Status == v1.ConditionTrue && r.Reason == v1.ReasonUnschedulable {
		// Terminal: no node can run it under this spec; a rollback would hide the cause.
		return p.with(ActionStalled, v1.ReasonUnschedulable, r.Message)
	}
	kg := st.KnownGoodVersion
	if in.EnvChanged && in.Rollback && kg == in.Desired && in.Observed.Version == in.Desired && !in.Observed.Converged {
		// An APPLY failed and a crash came before its rollback: the same version goes back
		// with the env it last converged with.
		return p.with(ActionRollback, v1.ReasonPromotionFailed, fmt.Sprintf("the edited spec.env did not converge with %s; rolling back to its previous env", in.Desired))
	}
	needsRollback := in.Observed.Version != kg || !in.Observed.Converged
	if in.Rollback && kg != "" && kg != in.Desired && needsRollback && in.Observed.Version == in.Desired {
		p.From, p.To = in.Observed.Version, kg
		return p.with(ActionRollback, v1.ReasonPromotionFailed, fmt.Sprintf("%s failed; rolling back to known-good %s", in.Desired, kg))
	}
	msg := fmt.Sprintf("%s failed under this spec and is not retried until the spec changes or a forced reconcile", in.Desired)
	if r, ok := st.Conditions.Get(v1.ConditionReady); ok && r.Status == v1.ConditionFalse && r.Message != "" && (r.Reason == v1.ReasonTestsFailed || r.Reason == v1.ReasonPromotionFailed) {
		msg = r.Message
	}
	return p.with(ActionFailed, reason, msg)
}

// drifted reports whether the known-good, desired version runs with live services that differ
// from its applied spec, and nothing else would deploy over them first.
func drifted(in PlanInput) bool {
	st := in.Status
	return len(in.Drift) > 0 && in.Applied && in.Observed.Version == in.Desired && st.KnownGoodVersion == in.Desired &&
		!in.EnvChanged && !promoting(st) && !slices.Contains(st.FailedVersions, in.Desired)
}

// driftText names each drifted service and its fields.
func driftText(drift []swarm.Drift) string {
	parts := make([]string, len(drift))
	for i, d := range drift {
		parts[i] = d.String()
	}
	return strings.Join(parts, "; ")
}

func (p Plan) with(a Action, reason, msg string) Plan {
	p.Action, p.Reason, p.Message = a, reason, msg
	return p
}

// promoting reports whether the stored status says a promotion was in progress.
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
