package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/reconcile"
)

// ShutdownAbort starts the message of a run aborted because the controller shut down. Such a
// run says nothing about the host, so the gate starts a new one at once after a restart.
const ShutdownAbort = "interrupted by shutdown: "

// RunRequest asks for a test run of a RecipeTest.
type RunRequest struct {
	// RecipeTest names the RecipeTest. Required.
	RecipeTest string
	// Ref is the candidate: a tag, a branch or a commit. Required unless PR is set.
	Ref string
	// Version is the tag Ref is known to be, for gating runs; it lets the gate find the run
	// while it is still resolving. Optional.
	Version string
	// PR is the pull request number, 0 for none.
	PR int
	// SourceRepo is the repository (owner/name) a Drone-triggered run came from. Optional.
	SourceRepo string
	// Trigger says what asked. Required.
	Trigger v1.Trigger
	// KnownGood is the upgrade base (the warm app's deployed or known-good version).
	KnownGood string
	// Owner is the WarmCanonical to wake when the run ends. Optional.
	Owner string
	// Progress, when set, is told as tiers start and end. A request that joins a running run
	// gets no progress of its own.
	Progress func(tiers.ProgressEvent)
}

// RunPool runs test runs in the background, at most Max at once and one per RecipeTest and ref:
// a second request for the same joins the running one. It records every run in the store as it
// progresses and, when one ends, wakes the RecipeTest and every WarmCanonical that waits on it.
type RunPool struct {
	// Objects, Store, Recipes and Tester are the ports the runs use. Required.
	Objects Objects
	Store   StatusStore
	Recipes Recipes
	Tester  Tester
	// Max bounds the runs at once (--max-runs); freed slots go fairly to the RecipeTest with
	// the fewest runs going (runslots.go). Optional. Defaults to 1.
	Max int
	// Wake is called with the objects to reconcile when a run ends. Optional.
	Wake func(reconcile.Request)
	// Progress, when set, is told as the tiers of every run start and end (sweep prints it).
	// It runs on the run's goroutine and must not block for long. Optional.
	Progress func(req RunRequest, ev tiers.ProgressEvent)
	// Scheduled, when set, is told when a run has to wait for a slot (queued) and when it
	// takes one, with the runs going and waiting then (sweep prints it). It runs on the run's
	// goroutine and must not block for long. Optional.
	Scheduled func(req RunRequest, queued bool, running, waiting int)
	// Context is the parent of every run: cancelling it aborts them. Optional. Defaults to
	// context.Background.
	Context context.Context

	once  sync.Once
	slots *runSlots
	mu    sync.Mutex
	byKey map[string]*activeRun
	byID  map[string]*activeRun
	wg    sync.WaitGroup
}

type activeRun struct {
	id     string
	key    string
	owners map[string]bool
	done   chan struct{}
	run    v1.Run
	err    error
	// stop aborts the run with a cause (set once it executes).
	stop context.CancelCauseFunc
}

func (p *RunPool) init() {
	p.once.Do(func() {
		if p.Max < 1 {
			p.Max = 1
		}
		if p.Context == nil {
			p.Context = context.Background()
		}
		p.slots = newRunSlots(p.Max)
		p.byKey, p.byID = map[string]*activeRun{}, map[string]*activeRun{}
	})
}

// Start starts a run for req, or joins the run already in progress for the same RecipeTest,
// ref and pull request, and returns its id. The run's first record is stored before Start
// returns, so the gate sees it at once.
func (p *RunPool) Start(req RunRequest) (string, error) {
	p.init()
	key := req.RecipeTest + "\x00" + req.Ref + "\x00" + strconv.Itoa(req.PR)
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.byKey[key]; ok {
		if req.Owner != "" {
			a.owners[req.Owner] = true
		}
		return a.id, nil
	}
	obj, err := p.Objects.Get(v1.KindRecipeTest, req.RecipeTest)
	if err != nil {
		return "", fmt.Errorf("load RecipeTest %q: %w", req.RecipeTest, err)
	}
	rt, ok := obj.(*v1.RecipeTest)
	if !ok || rt == nil {
		return "", fmt.Errorf("RecipeTest %q is not defined in any resource file", req.RecipeTest)
	}
	rt.Default()
	a := &activeRun{id: tiers.NewRunID(), key: key, owners: map[string]bool{}, done: make(chan struct{})}
	if req.Owner != "" {
		a.owners[req.Owner] = true
	}
	a.run = v1.Run{ID: a.id, Ref: req.Ref, Version: req.Version, PR: req.PR, SourceRepo: req.SourceRepo,
		Trigger: req.Trigger, SpecHash: rt.SpecHash(), StartedAt: time.Now().UTC(), Verdict: v1.VerdictRunning, Queued: true, Message: "queued"}
	if _, err := p.Store.RunDir(req.RecipeTest, a.id); err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	if err := p.Store.PutRun(req.RecipeTest, a.id, a.run); err != nil {
		return "", fmt.Errorf("record run %s: %w", a.id, err)
	}
	p.byKey[key], p.byID[a.id] = a, a
	p.wg.Add(1)
	go p.execute(rt, req, a)
	return a.id, nil
}

// Counts returns the runs of this process going and those queued for a slot.
func (p *RunPool) Counts() (running, queued int) {
	p.init()
	return p.slots.counts()
}

// scheduled tells Scheduled, when set, that req's run is queued or has taken a slot.
func (p *RunPool) scheduled(req RunRequest, queued bool) {
	if p.Scheduled != nil {
		running, waiting := p.slots.counts()
		p.Scheduled(req, queued, running, waiting)
	}
}

// Active reports whether run id is in progress in this process.
func (p *RunPool) Active(id string) bool {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.byID[id]
	return ok
}

// Wait blocks until run id ends or ctx is done and returns its record. A run that is not
// active is read from the store.
func (p *RunPool) Wait(ctx context.Context, recipeTest, id string) (v1.Run, error) {
	p.init()
	p.mu.Lock()
	a, ok := p.byID[id]
	p.mu.Unlock()
	if ok {
		select {
		case <-a.done:
			return a.run, a.err
		case <-ctx.Done():
			return v1.Run{}, ctx.Err()
		}
	}
	runs, err := LoadRuns(p.Store, recipeTest)
	if err != nil {
		return v1.Run{}, err
	}
	for _, r := range runs {
		if r.ID == id {
			return r, nil
		}
	}
	return v1.Run{}, fmt.Errorf("run %s of RecipeTest %q not found", id, recipeTest)
}

// Shutdown waits for every run to end; cancel the pool's Context first to abort them.
func (p *RunPool) Shutdown() { p.wg.Wait() }

// execute waits for a slot, runs the tiers and records the result.
func (p *RunPool) execute(rt *v1.RecipeTest, req RunRequest, a *activeRun) {
	defer p.wg.Done()
	ctx := p.Context
	log := logr.FromContextOrDiscard(ctx).WithValues("recipe", rt.Spec.Recipe, "run", a.id, "trigger", req.Trigger)
	if err := p.slots.acquire(ctx, req.RecipeTest, func() { p.scheduled(req, true) }); err != nil {
		p.end(req, a, v1.Run{}, err)
		return
	}
	defer p.slots.release(req.RecipeTest)
	// The record says queued until here: get, the API and the dashboard tell a run waiting
	// for a slot from one going.
	a.run.Queued, a.run.Message = false, "running"
	if err := p.Store.PutRun(req.RecipeTest, a.id, a.run); err != nil {
		log.Info("Could not record a started run", "error", err.Error())
	}
	p.scheduled(req, false)
	log.Info("Starting test run", "version", req.Ref)
	// A run whose record can no longer be written (a full state disk) is stopped: a verdict
	// nobody can read gates nothing, and its logs are being lost.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	a.stop = stop
	run, err := p.run(ctx, rt, req, a)
	if cause := context.Cause(ctx); store.IsNoSpace(cause) {
		run.Verdict, run.Message, err = v1.VerdictAborted, cause.Error(), nil
	}
	p.end(req, a, run, err)
	log.Info("Test run ended", "version", run.Version, "verdict", run.Verdict)
}

func (p *RunPool) run(ctx context.Context, rt *v1.RecipeTest, req RunRequest, a *activeRun) (v1.Run, error) {
	src, err := p.Recipes.Source(ctx, rt)
	if err != nil {
		return v1.Run{}, fmt.Errorf("open recipe %q: %w", rt.Spec.Recipe, err)
	}
	dir, err := p.Store.RunDir(req.RecipeTest, a.id)
	if err != nil {
		return v1.Run{}, err
	}
	requires, err := p.requires(ctx, rt)
	if err != nil {
		return v1.Run{}, err
	}
	if rt.Spec.Timeout.Duration > 0 {
		var cancel context.CancelFunc
		// The tier runner bounds the run too; this bound also covers resolving the ref.
		ctx, cancel = context.WithTimeout(ctx, rt.Spec.Timeout.Duration+time.Minute)
		defer cancel()
	}
	return p.Tester.Run(ctx, tiers.Request{
		RunID: a.id, Spec: rt.Spec, SpecHash: a.run.SpecHash, Source: src, Ref: req.Ref, PR: req.PR,
		SourceRepo: req.SourceRepo, Trigger: req.Trigger, KnownGood: req.KnownGood, RunDir: dir, Requires: requires,
		Progress: func(ev tiers.ProgressEvent) {
			rec := ev.Run
			p.fill(&rec, a)
			if err := p.Store.PutRun(req.RecipeTest, a.id, rec); store.IsNoSpace(err) {
				a.stop(err)
			}
			if req.Progress != nil {
				req.Progress(ev)
			}
			if p.Progress != nil {
				p.Progress(req, ev)
			}
		},
	})
}

// fill completes a record from the runner with what the pool knows.
func (p *RunPool) fill(rec *v1.Run, a *activeRun) {
	if rec.ID == "" {
		rec.ID = a.id
	}
	if rec.Version == "" {
		rec.Version = a.run.Version
	}
	if rec.Ref == "" {
		rec.Ref = a.run.Ref
	}
	if rec.SpecHash == "" {
		rec.SpecHash = a.run.SpecHash
	}
	if rec.Trigger == "" {
		rec.Trigger = a.run.Trigger
	}
	if rec.PR == 0 {
		rec.PR = a.run.PR
	}
	if rec.SourceRepo == "" {
		rec.SourceRepo = a.run.SourceRepo
	}
	if rec.StartedAt.IsZero() {
		rec.StartedAt = a.run.StartedAt
	}
}

// end records the final run, releases it and wakes its owners.
func (p *RunPool) end(req RunRequest, a *activeRun, run v1.Run, err error) {
	p.fill(&run, a)
	if run.Verdict == "" || run.Verdict == v1.VerdictRunning || (err != nil && run.Verdict != v1.VerdictFailed && run.Verdict != v1.VerdictPassed) {
		run.Verdict = v1.VerdictAborted
		if err == nil {
			err = errors.New("the runner returned no verdict")
		}
		run.Message = err.Error()
	}
	if run.Verdict == v1.VerdictAborted && p.Context.Err() != nil && !strings.HasPrefix(run.Message, ShutdownAbort) {
		run.Message = ShutdownAbort + run.Message
	}
	if run.FinishedAt == nil {
		now := time.Now().UTC()
		run.FinishedAt = &now
	}
	perr := p.Store.PutRun(req.RecipeTest, a.id, run)
	if run.Verdict == v1.VerdictAborted && store.IsNoSpace(perr) {
		// Its waiters hear the verdict, which says why; on disk the record stays Running, a
		// run no process holds, which the gate takes for a crashed one.
		perr = nil
	}
	p.mu.Lock()
	delete(p.byKey, a.key)
	delete(p.byID, a.id)
	a.run, a.err = run, errors.Join(err, perr)
	owners := a.owners
	p.mu.Unlock()
	// Wake before releasing waiters, so a one-shot command that exits once Wait returns has
	// had the RecipeTest's status updated.
	if p.Wake != nil {
		p.Wake(reconcile.Request{Kind: v1.KindRecipeTest, Name: req.RecipeTest})
		for o := range owners {
			p.Wake(reconcile.Request{Kind: v1.KindWarmCanonical, Name: o})
		}
	}
	close(a.done)
}

// requires resolves the RecipeTest's spec.requires: a warm app by its defaulted stack and env,
// a recipe by its opened source. A name that matches nothing is an error naming the field,
// which aborts the run.
func (p *RunPool) requires(ctx context.Context, rt *v1.RecipeTest) ([]tiers.Required, error) {
	var out []tiers.Required
	for i, q := range rt.Spec.Requires {
		field := fmt.Sprintf("RecipeTest %q spec.requires[%d]", rt.Metadata.Name, i)
		if q.WarmCanonical != "" {
			obj, err := p.Objects.Get(v1.KindWarmCanonical, q.WarmCanonical)
			if err != nil {
				return nil, fmt.Errorf("%s.warmCanonical: %w", field, err)
			}
			wc, ok := obj.(*v1.WarmCanonical)
			if !ok || wc == nil {
				return nil, fmt.Errorf("%s.warmCanonical: %q names no WarmCanonical (valid: the name of a WarmCanonical in the resources directory)", field, q.WarmCanonical)
			}
			wc.Default()
			out = append(out, tiers.Required{Name: q.Name, Warm: wc.Spec.Stack, WarmEnv: wc.Spec.Env})
			continue
		}
		if q.Source == nil {
			return nil, fmt.Errorf("%s.source: missing", field)
		}
		src, err := p.Recipes.Source(ctx, &v1.RecipeTest{Metadata: v1.ObjectMeta{Name: q.Recipe}, Spec: v1.RecipeTestSpec{Recipe: q.Recipe, Source: *q.Source}})
		if err != nil {
			return nil, fmt.Errorf("%s: open recipe %q: %w", field, q.Recipe, err)
		}
		out = append(out, tiers.Required{Name: q.Name, Source: src, Recipe: q.Recipe, Version: q.Version, Env: q.Env})
	}
	return out, nil
}
