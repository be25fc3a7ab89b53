package controllers

import (
	"fmt"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// GateInput is what GateFor needs to judge the test gate of one version.
type GateInput struct {
	// Runs is the RecipeTest's run history, newest first.
	Runs []v1.Run
	// Version is the desired version.
	Version string
	// Commit is the commit Version's tag names now. A run of another commit does not count:
	// the tag moved since, and the new commit is a new candidate. Empty accepts any commit.
	Commit string
	// SpecHash is the current RecipeTest spec hash: runs of another spec do not count, so an
	// edit of the RecipeTest invalidates earlier passes.
	SpecHash string
	// WaitingSince is when the WarmCanonical started waiting for a run of Version; zero when it
	// is not waiting. Only a failure that finished since then fails the gate, so an old failed
	// run is retried once the spec or a forced trigger cleared the failed version.
	WaitingSince time.Time
	// Active reports whether a run is still in progress in this process; a record that says
	// Running but is not active was left by a crash and counts as aborted.
	Active func(runID string) bool
	// Now is the current time, for the pause after an aborted run.
	Now time.Time
	// Images maps the image references of Version's passed run to what they name now (digest,
	// or local image ID), resolved once per pass; nil when not resolved. A passed run whose
	// images moved since does not count (see ImagesMoved), unless Pinned.
	Images map[string]string
	// Pinned keeps a passed run whose images moved (spec.images: pinned): the move is only
	// reported in Gate.Moved.
	Pinned bool
}

// AbortedRetryDelay is the pause after an aborted run before the gate starts another.
const AbortedRetryDelay = 2 * time.Minute

// GateFor is the gate of step 8 of the design, without side effects: Passed when a run of
// exactly this version, the commit its tag names now and this RecipeTest spec passed, Running
// when one is in progress, Failed when the run the object waited for failed, None otherwise.
// A pass of the same version at another commit says the tag moved (Gate.Moved): it promotes
// nothing.
func GateFor(in GateInput) Gate {
	g := gateFor(in)
	if g.State == GatePassed {
		return g
	}
	// The newest pass of this version, commit and spec tested images that moved since: the
	// runs after it test the new ones, and the warm app keeps the tested ones meanwhile.
	for _, r := range in.Runs {
		if r.Verdict == v1.VerdictPassed && r.Version == in.Version && r.SpecHash == in.SpecHash && (in.Commit == "" || r.Commit == in.Commit) {
			if m := ImagesMoved(r.Images, in.Images); m != "" {
				g.ImagesMoved = true
				if g.Moved == "" {
					g.Moved = m
				}
			}
			break
		}
	}
	return g
}

func gateFor(in GateInput) Gate {
	moved := ""
	for _, r := range in.Runs {
		if r.Version != in.Version || r.SpecHash != in.SpecHash {
			continue
		}
		// A record still running may not know its commit yet; it resolves the tag as it is now.
		if in.Commit != "" && r.Commit != "" && r.Commit != in.Commit {
			if r.Verdict == v1.VerdictPassed && moved == "" {
				moved = fmt.Sprintf("tag %s moved from %s to %s since it was tested", in.Version, r.Commit, in.Commit)
			}
			continue
		}
		switch r.Verdict {
		case v1.VerdictPassed:
			pass := Gate{State: GatePassed, RunID: r.ID, Commit: r.Commit, Images: r.CandidateDigests()}
			if m := ImagesMoved(r.Images, in.Images); m != "" {
				if !in.Pinned {
					if moved == "" {
						moved = m
					}
					continue
				}
				pass.Moved = m + " (spec.images: pinned keeps the tested one)"
			}
			return pass
		case v1.VerdictRunning:
			if in.Active != nil && in.Active(r.ID) {
				return Gate{State: GateRunning, RunID: r.ID}
			}
		case v1.VerdictAborted:
			if r.FinishedAt != nil && !in.Now.IsZero() && !strings.HasPrefix(r.Message, ShutdownAbort) {
				if wait := r.FinishedAt.Add(AbortedRetryDelay).Sub(in.Now); wait > 0 {
					return Gate{State: GateAborted, RunID: r.ID, Message: r.Message, RetryAfter: wait}
				}
			}
			return Gate{State: GateNone, Moved: moved}
		case v1.VerdictFailed:
			if !in.WaitingSince.IsZero() && r.FinishedAt != nil && !r.FinishedAt.Before(in.WaitingSince.Truncate(time.Second)) {
				return Gate{State: GateFailed, RunID: r.ID, Message: r.Message}
			}
		}
	}
	return Gate{State: GateNone, Moved: moved}
}

// waitingSince returns when the status started waiting for a test run of version, zero if it
// does not wait for one.
func waitingSince(st v1.WarmCanonicalStatus, version string) time.Time {
	if p := st.Progress; p != nil && p.Reason == v1.ReasonTesting && p.Version == version {
		return p.Since
	}
	return time.Time{}
}
