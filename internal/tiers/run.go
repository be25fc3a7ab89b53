package tiers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// execution is the state of one Run.
type execution struct {
	r        *Runner
	req      Request
	log      logr.Logger
	rec      v1.Run
	runLog   *tierLog
	versions recipe.Versions
	cand     *tree
	base     *tree
	steps    []Step
	stacks   map[StackRole]string
	touched  map[string]bool // stacks a deploy was attempted on: teardown removes them
	main     *swarm.Stack    // the candidate as deployed on the main stack by install
	install  v1.Result       // install's result once known
	required []*requirement  // spec.requires, once prepared
	// pins maps each image reference of the run's stacks to what its deploys send (see
	// resolveImages); missingImage is the candidate's tag its registry does not have.
	pins         map[string]string
	missingImage error
	// imagesBefore is what the nodes held before the first deploy: the teardown removes only
	// images absent from it (nil: none, see removeImages).
	imagesBefore *swarm.NodeImages

	// mu guards what the upgrade tier, running beside the main stack's tiers, shares with
	// them: the record, the stacks touched, the abort reason and the progress callback.
	mu      sync.Mutex
	aborted string // why the run stopped early, for VerdictAborted
}

// Run tests one candidate version of a recipe, tier by tier, on throw-away stacks, and returns
// the run record. The tiers run in the order of Plan; install's stack serves custom, backup
// and restore; upgrade has its own and runs beside them once install passed. Every tier is
// bounded by its timeout and the run by spec.timeout. Run returns as soon as the verdict is
// known, so a promotion waits for no teardown; the stacks are then removed in the background
// (with volumes, secrets and configs) on a context of their own, retried until they are gone
// or TeardownRetryFor passed (then the next garbage collection takes them), unless
// spec.keepFailedStacks keeps a failed run's. WaitTeardowns waits for them. The stacks' names
// hold the run id, so a new run never races a teardown for them.
// The verdict is Passed only when no tier failed and install ran. The error is non-nil when
// the run could not be prepared (the record is then Aborted); a failing tier is not an error.
func (r *Runner) Run(ctx context.Context, req Request) (v1.Run, error) {
	x := &execution{
		r: r, req: req, log: logr.FromContextOrDiscard(ctx).WithValues("recipe", req.Spec.Recipe, "run", req.RunID),
		rec: v1.Run{
			ID: req.RunID, Ref: req.Ref, PR: req.PR, SourceRepo: req.SourceRepo, Trigger: req.Trigger,
			SpecHash: req.SpecHash, StartedAt: time.Now().UTC(), Verdict: v1.VerdictRunning,
		},
		stacks: map[StackRole]string{
			StackMain:    StackName(req.Spec.Recipe, req.RunID, ""),
			StackUpgrade: StackName(req.Spec.Recipe, req.RunID, string(StackUpgrade)),
		},
		touched: map[string]bool{},
	}
	if err := x.openRunDir(); err != nil {
		return x.abortRun(err), err
	}
	lease, err := r.holdLease(req.RunID)
	if err != nil {
		x.runLog.Close()
		return x.abortRun(err), err
	}
	runCtx, cancel := context.WithTimeout(ctx, req.Spec.Timeout.Duration)
	if req.Spec.Timeout.Duration <= 0 {
		runCtx, cancel = context.WithCancel(ctx)
	}
	defer cancel()

	x.log.Info("Starting test run", "ref", req.Ref)
	if err := x.prepare(runCtx); err != nil {
		x.releaseTrees()
		x.runLog.Printf("preparation failed: %v", err)
		x.runLog.Close()
		lease()
		return x.abortRun(err), err
	}

	x.snapshotImages(runCtx)
	owned := x.ownStacks()
	r.claim(req.RunID, owned...)
	if err := x.startRequires(runCtx); err != nil {
		x.runLog.Printf("%v", err)
		x.abort(err.Error())
	} else {
		x.runSteps(ctx, runCtx)
	}
	x.releaseTrees()
	x.decide()
	finished := time.Now().UTC()
	x.rec.FinishedAt = &finished
	x.log.Info("Finished test run", "verdict", x.rec.Verdict, "message", x.rec.Message)
	r.teardowns.Add(1)
	go func() {
		defer r.teardowns.Done()
		defer x.runLog.Close()
		defer lease()
		defer r.release(owned...)
		// The run's context ends when Run returns (its timeout's cancel), but its stacks must
		// still go, retrying while the engine is back from a failure: the teardown is bounded
		// by TeardownRetryFor, and a one-shot command waits for it at most finishWait.
		if x.teardownRetrying(context.WithoutCancel(ctx)) {
			x.removeImages(context.WithoutCancel(ctx))
		}
	}()
	return x.rec, nil
}

// afterEngineFailure are the pauses before the extra teardowns that follow one that succeeded
// only after failing (see teardownRetrying).
var afterEngineFailure = []time.Duration{10 * time.Second, 20 * time.Second}

// teardownRetrying tears the run's stacks down, again and again while it fails (a daemon that
// restarts, a volume still in use), with a growing pause, for at most TeardownRetryFor. It
// reports whether the stacks are gone (not kept by spec.keepFailedStacks, nor given up on).
func (x *execution) teardownRetrying(ctx context.Context) bool {
	deadline := time.Now().Add(x.r.opts.TeardownRetryFor)
	pause := time.Second
	failed := false
	for {
		err := x.teardown(ctx)
		if err == nil && failed {
			// The engine came back from a failure: its agent may still start a stale task
			// of a removed service for a moment, and that container creates the stack's
			// volume again. Look twice more once that has settled.
			for _, settle := range afterEngineFailure {
				if !sleep(ctx, settle) {
					return false
				}
				if err = x.teardown(ctx); err != nil {
					break
				}
			}
			if err == nil {
				return x.stacksRemoved()
			}
		}
		if err == nil {
			return x.stacksRemoved()
		}
		failed = true
		if time.Now().Add(pause).After(deadline) {
			x.log.Error(err, "Teardown of test stacks failed; garbage collection will remove them")
			x.runLog.Printf("giving up removing the stacks: %v", err)
			return false
		}
		x.runLog.Printf("teardown failed, retrying in %s: %v", pause, err)
		if !sleep(ctx, pause) {
			x.runLog.Printf("giving up removing the stacks, the process is stopping: %v", err)
			return false
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// sleep waits d, or until ctx ends; it reports whether the whole pause passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (x *execution) openRunDir() error {
	if x.req.RunID == "" {
		return errors.New("start run: no run id")
	}
	if x.req.Source == nil {
		return errors.New("start run: no recipe source")
	}
	if x.req.RunDir == "" {
		return errors.New("start run: no run directory")
	}
	for _, d := range []string{logsDir, artifactsDir} {
		if err := os.MkdirAll(filepath.Join(x.req.RunDir, d), privateDir); err != nil {
			return fmt.Errorf("start run: %w", err)
		}
	}
	l, err := openLog(x.req.RunDir, runLogName)
	if err != nil {
		return fmt.Errorf("start run: %w", err)
	}
	x.runLog = l
	return nil
}

// runSteps runs the plan in order, except that the upgrade tier, which has a stack of its own,
// starts beside the main stack's tiers as soon as install passed: the two stacks do not share
// anything, and a run then takes about the longer of the two chains instead of their sum.
// The record keeps the plan's order.
func (x *execution) runSteps(ctx, runCtx context.Context) {
	upgrade := slices.IndexFunc(x.steps, func(s Step) bool { return s.Stack == StackUpgrade })
	launched := false
	var wg sync.WaitGroup
	for i, s := range x.steps {
		if i == upgrade && launched {
			continue
		}
		x.runStep(ctx, runCtx, s)
		if s.Tier.Name == v1.TierInstall && x.install == v1.ResultPassed && upgrade >= 0 {
			launched = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				x.runStep(ctx, runCtx, x.steps[upgrade])
			}()
		}
	}
	wg.Wait()
	order := func(n v1.TierName) int {
		return slices.IndexFunc(x.steps, func(s Step) bool { return s.Tier.Name == n })
	}
	slices.SortStableFunc(x.rec.Tiers, func(a, b v1.TierResult) int { return order(a.Name) - order(b.Name) })
}

// abortRun finishes the record of a run that could not be prepared.
func (x *execution) abortRun(err error) v1.Run {
	now := time.Now().UTC()
	x.rec.FinishedAt = &now
	x.rec.Verdict = v1.VerdictAborted
	x.rec.Message = err.Error()
	return x.rec
}

// decide sets the verdict: Aborted when the run stopped early, Failed when a tier failed or
// install did not run, Passed otherwise.
func (x *execution) decide() {
	if x.aborted != "" {
		x.rec.Verdict, x.rec.Message = v1.VerdictAborted, x.aborted
		return
	}
	for _, t := range x.rec.Tiers {
		if t.Result == v1.ResultFailed {
			x.rec.Verdict, x.rec.Message = v1.VerdictFailed, fmt.Sprintf("%s failed: %s", t.Name, t.Reason)
			return
		}
	}
	if x.install != v1.ResultPassed {
		x.rec.Verdict, x.rec.Message = v1.VerdictFailed, "install did not run; a verdict needs it"
		return
	}
	x.rec.Verdict, x.rec.Message = v1.VerdictPassed, "every applicable tier passed"
}

// ownStacks are the names of every stack the run may deploy: main, upgrade and the required
// apps' throw-away ones.
func (x *execution) ownStacks() []string {
	return append([]string{x.stacks[StackMain], x.stacks[StackUpgrade]}, x.requiredStacks()...)
}

// stacksRemoved reports whether a teardown that succeeded removed the stacks, rather than
// keeping a failed run's for debugging (spec.keepFailedStacks).
func (x *execution) stacksRemoved() bool {
	return !x.req.Spec.KeepFailedStacks || x.rec.Verdict == v1.VerdictPassed
}

// teardown removes every stack a deploy was attempted on, with its volumes, secrets and configs,
// on a fresh context: the run's own may be cancelled or past its deadline by now.
func (x *execution) teardown(ctx context.Context) error {
	if !x.stacksRemoved() {
		for s := range x.touched {
			x.runLog.Printf("keeping stack %s for debugging (spec.keepFailedStacks)", s)
			x.log.Info("Keeping failed stack", "stack", s)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.r.opts.TeardownTimeout)
	defer cancel()
	// The stacks are removed side by side: most of a removal is waiting for containers to stop.
	stacks := x.ownStacks()
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(stacks))
	)
	for i, s := range stacks {
		if !x.touched[s] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			if err := x.r.swarm.Remove(ctx, s, true); err != nil {
				x.runLog.Printf("removing stack %s failed: %v", s, err)
				errs[i] = fmt.Errorf("remove stack %s: %w", s, err)
				return
			}
			x.runLog.Printf("removed stack %s with its volumes, secrets and configs in %s", s, time.Since(start).Round(time.Millisecond))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
