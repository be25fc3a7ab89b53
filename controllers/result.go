package controllers

// Result is the outcome of one WarmCanonical reconcile as sweep prints it in its ACTION column.
type Result string

// The results of a reconcile.
const (
	// ResultSkip: nothing to do (suspended, data mode).
	ResultSkip Result = "SKIP"
	// ResultConverged: the warm app already ran the desired version; no Swarm write was made.
	ResultConverged Result = "CONVERGED"
	// ResultPromoted: the warm app was promoted to the desired version in this pass.
	ResultPromoted Result = "PROMOTED"
	// ResultApplied: the warm app was deployed again at the version it runs with the edited
	// spec.env and converged in this pass.
	ResultApplied Result = "APPLIED"
	// ResultDrifted: a live service differs from its applied spec and spec.drift is report;
	// nothing was written.
	ResultDrifted Result = "DRIFTED"
	// ResultCorrected: the applied spec was deployed again over a hand edit (spec.drift:
	// correct) and converged in this pass.
	ResultCorrected Result = "CORRECTED"
	// ResultUndeployed: the services of a data-mode app were removed.
	ResultUndeployed Result = "UNDEPLOYED"
	// ResultHeld: a MAJOR bump waits for a person.
	ResultHeld Result = "HELD"
	// ResultDegraded: the known-good, desired version runs but is not healthy; nothing was
	// written (a failure: sweep exits 1).
	ResultDegraded Result = "DEGRADED"
	// ResultStalled: a stateful task runs away from its data; nothing was written (a failure:
	// sweep exits 1).
	ResultStalled Result = "STALLED"
	// ResultTesting: a test run is in progress; the daemon is woken when it ends.
	ResultTesting Result = "TESTING"
	// ResultFailed: the desired version failed its tests or its promotion, or the object cannot
	// be reconciled (missing RecipeTest, unknown version).
	ResultFailed Result = "FAILED"
	// ResultRolledBack: the promotion failed and the known-good version was deployed back.
	ResultRolledBack Result = "ROLLED-BACK"
	// ResultInvalid: the resource is invalid (Stalled, InvalidSpec).
	ResultInvalid Result = "INVALID"
	// ResultError: a transient error (Docker or git unreachable); the daemon retries.
	ResultError Result = "ERROR"
)

// Failed reports whether the result makes sweep exit 1. CONVERGED, SKIP, PROMOTED, APPLIED and
// HELD are not failures: a hold waits for a person.
func (r Result) Failed() bool {
	switch r {
	case ResultSkip, ResultConverged, ResultPromoted, ResultApplied, ResultDrifted, ResultCorrected, ResultUndeployed, ResultHeld, ResultTesting:
		return false
	}
	return true
}
