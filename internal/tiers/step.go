package tiers

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// runStep executes one planned tier and appends its result to the record.
func (x *execution) runStep(ctx, runCtx context.Context, s Step) {
	name := s.Tier.Name
	res := v1.TierResult{Name: name, Reason: s.Reason}
	switch s.Action {
	case ActionNotApplicable:
		res.Result = v1.ResultNotApplicable
	case ActionSkipped:
		res.Result = v1.ResultSkipped
	case ActionFail:
		res.Result = v1.ResultFailed
	}
	if res.Result == "" {
		if skip := x.skipReason(s); skip != "" {
			res.Result, res.Reason = v1.ResultSkipped, skip
		}
	}
	if res.Result != "" {
		x.record(res)
		return
	}
	x.started(name)
	x.log.V(1).Info("Running tier", "tier", name)
	res = x.execute(ctx, runCtx, s)
	if name == v1.TierInstall {
		x.install = res.Result
	}
	x.record(res)
}

// skipReason says why a planned tier cannot run now: its stack needs install, which did not pass,
// or the run is over.
func (x *execution) skipReason(s Step) string {
	if aborted := x.abortReason(); aborted != "" {
		return "run aborted: " + aborted
	}
	if s.Tier.Name == v1.TierInstall || s.Stack == StackNone {
		return ""
	}
	switch x.install {
	case v1.ResultPassed:
		return ""
	case v1.ResultFailed:
		return "install failed"
	case "":
		return "install did not run"
	}
	return "install " + string(x.install)
}

// execute runs one tier under its timeout and turns its outcome into a result.
func (x *execution) execute(ctx, runCtx context.Context, s Step) v1.TierResult {
	name := s.Tier.Name
	res := v1.TierResult{Name: name}
	l, err := openLog(x.req.RunDir, string(name))
	if err != nil {
		res.Result, res.Reason = v1.ResultFailed, err.Error()
		return res
	}
	defer l.Close()
	res.LogFile = l.rel
	timeout := s.Tier.Timeout.Duration
	if timeout <= 0 {
		timeout = x.req.TierTimeout
	}
	tierCtx, cancel := runCtx, context.CancelFunc(func() {})
	if timeout > 0 {
		tierCtx, cancel = context.WithTimeout(runCtx, timeout)
	}
	defer cancel()

	start := time.Now()
	l.Printf("tier %s of run %s started", name, x.req.RunID)
	note, err := x.dispatch(tierCtx, s, l)
	res.Duration = v1.Duration{Duration: time.Since(start).Round(time.Millisecond)}
	switch {
	case err == nil:
		res.Result, res.Reason = v1.ResultPassed, note
	case ctx.Err() != nil:
		// The caller gave up (shutdown): say so, and stop the other tiers.
		res.Result, res.Reason = v1.ResultFailed, x.abort(fmt.Sprintf("cancelled during %s", name))
	case runCtx.Err() != nil && errors.Is(runCtx.Err(), context.DeadlineExceeded):
		x.abort(fmt.Sprintf("run timed out after %s during %s", x.req.Spec.Timeout, name))
		res.Result, res.Reason = v1.ResultFailed, fmt.Sprintf("timed out after %s (the run's timeout)", x.req.Spec.Timeout)
	case tierCtx.Err() != nil && errors.Is(tierCtx.Err(), context.DeadlineExceeded):
		res.Result, res.Reason = v1.ResultFailed, fmt.Sprintf("timed out after %s", v1.Duration{Duration: timeout})
	case swarm.IsEngineFailure(err):
		// The engine failed, not the recipe: the run ends Aborted and is retried later.
		res.Result, res.Reason = v1.ResultFailed, x.abort(fmt.Sprintf("the Docker engine failed during %s: %v", name, err))
	case swarm.IsRegistryFailure(err):
		// A registry (or a node's pull from it) failed, not the recipe.
		res.Result, res.Reason = v1.ResultFailed, x.abort(fmt.Sprintf("during %s: %v", name, err))
	case errors.As(err, new(*swarmMoveError)):
		// Swarm, not the recipe, put the data out of reach.
		res.Result, res.Reason = v1.ResultFailed, x.abort(fmt.Sprintf("during %s: %v", name, err))
	default:
		res.Result, res.Reason = v1.ResultFailed, err.Error()
	}
	if err != nil {
		l.Printf("error: %v", err)
	}
	l.Printf("tier %s: %s after %s: %s", name, res.Result, res.Duration, res.Reason)
	return res
}

// dispatch runs the tier's own code. It returns a note on success (what was checked) and the
// failure otherwise.
func (x *execution) dispatch(ctx context.Context, s Step, l *tierLog) (string, error) {
	switch s.Tier.Name {
	case v1.TierInstall:
		return x.runInstall(ctx, l)
	case v1.TierUpgrade:
		return x.runUpgrade(ctx, l)
	case v1.TierBackup:
		return x.runBackup(ctx, l)
	case v1.TierRestore:
		return x.runRestore(ctx, l)
	case v1.TierCustom:
		return x.runCustom(ctx, s.Tier, l)
	case v1.TierLint:
		return x.runLint(ctx, l)
	}
	return "", fmt.Errorf("unknown tier %q", s.Tier.Name)
}

// record appends a result and reports it.
func (x *execution) record(res v1.TierResult) {
	x.log.Info("Tier finished", "tier", res.Name, "result", res.Result, "reason", res.Reason)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.rec.Tiers = append(x.rec.Tiers, res)
	x.progressLocked(ProgressEvent{Tier: res.Name, Done: true, Result: res})
}

// started reports a tier starting.
func (x *execution) started(name v1.TierName) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.progressLocked(ProgressEvent{Tier: name})
}

// progressLocked calls the progress callback with a copy of the record; holding mu serialises
// the calls of the upgrade tier and the main stack's tiers.
func (x *execution) progressLocked(ev ProgressEvent) {
	if x.req.Progress == nil {
		return
	}
	ev.Run = x.rec
	ev.Run.Tiers = append([]v1.TierResult(nil), x.rec.Tiers...)
	x.req.Progress(ev)
}

// abort records why the run stops early (the first reason wins) and returns the reason given.
func (x *execution) abort(reason string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.aborted == "" {
		x.aborted = reason
	}
	return reason
}

func (x *execution) abortReason() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.aborted
}

// remaining is the time left before ctx's deadline, for APIs that take a timeout.
func remaining(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 10 * time.Minute
}
