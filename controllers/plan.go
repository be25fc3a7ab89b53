package controllers

import (
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
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
	// Dependencies are the WarmCanonicals of spec.dependsOn as their stored statuses say, in
	// spec order.
	Dependencies []Dependency
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
	// Rule names the row of Decide's table that chose the action.
	Rule string
}

// Dependency is one WarmCanonical of spec.dependsOn as its stored status says.
type Dependency struct {
	// Name is the WarmCanonical's.
	Name string
	// Known is false when it has no readable status yet.
	Known bool
	// Ready is its Ready condition (zero when it has none).
	Ready v1.Condition
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
