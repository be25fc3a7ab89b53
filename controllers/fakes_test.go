package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// fakeObjects is an in-memory Objects.
type fakeObjects struct {
	mu      sync.Mutex
	objs    map[v1.Key]v1.Object
	invalid map[v1.Key]error
}

func newObjects(objs ...v1.Object) *fakeObjects {
	f := &fakeObjects{objs: map[v1.Key]v1.Object{}, invalid: map[v1.Key]error{}}
	for _, o := range objs {
		f.put(o)
	}
	return f
}

func (f *fakeObjects) put(o v1.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs[o.GetKey()] = o
	delete(f.invalid, o.GetKey())
}

func (f *fakeObjects) breakObject(k v1.Key, detail string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalid[k] = &controllers.InvalidError{Key: k, Errors: v1.Errors{{File: "resources/x.yaml", Line: 3, Kind: k.Kind, Name: k.Name, Detail: detail}}}
}

func (f *fakeObjects) Get(kind, name string) (v1.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := v1.Key{Kind: kind, Name: name}
	if err := f.invalid[k]; err != nil {
		return nil, err
	}
	if o, ok := f.objs[k]; ok {
		return o.DeepCopyObject(), nil
	}
	return nil, nil
}

func (f *fakeObjects) List(kind string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for k := range f.objs {
		if k.Kind == kind {
			names = append(names, k.Name)
		}
	}
	for k := range f.invalid {
		if k.Kind == kind && !slices.Contains(names, k.Name) {
			names = append(names, k.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// fakeCluster is an in-memory Swarm: a deploy sets the stack's version; a version listed in
// unhealthy never converges.
type fakeCluster struct {
	mu        sync.Mutex
	stacks    map[string]*fakeStack
	unhealthy map[string]bool
	deploys   []string // "stack@version"
	envs      []map[string]string
	removes   []string
	// waitBlocks makes WaitConverged block until ctx ends (a crash mid-promotion).
	waitBlocks bool
	blocked    chan struct{} // receives once each time WaitConverged starts blocking
	prunes     []string      // stacks whose unused secrets were pruned
	// waitErr, when set, is what WaitConverged returns (an engine that went away).
	waitErr error
	// driftCalls counts Drift calls; corrections lists the deploys made with CorrectDrift.
	driftCalls  int
	corrections []string
	// images is what each image reference names now (ResolveImages); pinned lists, per
	// deploy, the digests it was given.
	images map[string]string
	pinned []map[string]string
	// driftErr, when set, is what Drift returns (a comparison that cannot run).
	driftErr error
	// driftPins lists, per Drift call, the digests the comparison was given.
	driftPins []map[string]string
	// hold, when set, makes WaitConverged wait until it is closed; holding counts the waits
	// in progress.
	hold    chan struct{}
	holding int
}

func (c *fakeCluster) holdingNow() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.holding
}

type fakeStack struct {
	version   string
	converged bool
	// index is the services' version index, moved by every write; drift what a hand edit
	// changed since the last deploy.
	index uint64
	drift []swarm.Drift
}

// handEdit changes the stack as docker service update would: a write (the index moves) that
// leaves it drifted, its rollout done or still going (converged).
func (c *fakeCluster) handEdit(stack string, converged bool, drift ...swarm.Drift) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stacks[stack]
	s.index++
	s.converged, s.drift = converged, drift
}

func newCluster() *fakeCluster {
	return &fakeCluster{stacks: map[string]*fakeStack{}, unhealthy: map[string]bool{}, blocked: make(chan struct{}, 1)}
}

func (c *fakeCluster) set(stack, version string, converged bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stacks[stack] = &fakeStack{version: version, converged: converged}
}

func (c *fakeCluster) writes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append(slices.Clone(c.deploys), c.removes...)
}

func (c *fakeCluster) ObserveStack(_ context.Context, stack string) (swarm.StackState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.stacks[stack]
	if !ok {
		return swarm.StackState{Name: stack}, nil
	}
	running := 0
	if s.converged {
		running = 1
	}
	return swarm.StackState{Name: stack, Version: s.version, Services: []swarm.ServiceState{
		{Name: stack + "_app", Desired: 1, Running: running, Healthy: running, VersionIndex: s.index},
	}}, nil
}

func (c *fakeCluster) Deploy(_ context.Context, app controllers.WarmApp, version string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deploys = append(c.deploys, app.Stack+"@"+version)
	c.envs = append(c.envs, app.Env)
	c.pinned = append(c.pinned, app.Images)
	// Like the sample app: SAMPLE_UNHEALTHY=true never converges, whatever the version.
	var index uint64
	if prev := c.stacks[app.Stack]; prev != nil {
		index = prev.index + 1
	}
	if app.CorrectDrift {
		c.corrections = append(c.corrections, app.Stack+"@"+version)
	}
	c.stacks[app.Stack] = &fakeStack{version: version, converged: !c.unhealthy[version] && app.Env["SAMPLE_UNHEALTHY"] != "true", index: index}
	return nil
}

func (c *fakeCluster) WaitConverged(ctx context.Context, stack string, _ time.Duration) error {
	c.mu.Lock()
	block := c.waitBlocks
	s := c.stacks[stack]
	werr := c.waitErr
	hold := c.hold
	c.holding++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.holding--
		c.mu.Unlock()
	}()
	if werr != nil {
		return werr
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if block {
		// Tell a spec that waits for it that the wait now blocks (no sleep to guess when).
		select {
		case c.blocked <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
	if s == nil || !s.converged {
		return fmt.Errorf("service %s_app: task failed its healthcheck", stack)
	}
	return nil
}

func (c *fakeCluster) RemoveServices(_ context.Context, stack string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removes = append(c.removes, "remove "+stack)
	delete(c.stacks, stack)
	return nil
}

// fakeRecipes serves one tag list for every recipe.
type fakeRecipes struct {
	mu   sync.Mutex
	tags []string
}

func (f *fakeRecipes) setTags(tags ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tags = tags
}

func (f *fakeRecipes) Source(context.Context, *v1.RecipeTest) (tiers.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeSource{versions: recipe.NewVersions(f.tags)}, nil
}

type fakeSource struct{ versions recipe.Versions }

func (s fakeSource) Resolve(_ context.Context, ref string, _ int) (string, error) {
	return "commit-of-" + ref, nil
}

func (s fakeSource) Checkout(context.Context, string) (*recipe.Checkout, error) {
	return nil, errors.New("fake source has no checkouts")
}

func (s fakeSource) Versions(context.Context) (recipe.Versions, error) { return s.versions, nil }

// fakeTester passes every version except those listed in fail; a release channel, when set,
// holds each run until it is closed or sent to.
type fakeTester struct {
	mu      sync.Mutex
	fail    map[string]bool
	runs    []tiers.Request
	release chan struct{}
	// images are recorded in every run, as the runner resolves them.
	images []v1.RunImage
}

func (t *fakeTester) requests() []tiers.Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.runs)
}

func (t *fakeTester) Run(ctx context.Context, req tiers.Request) (v1.Run, error) {
	t.mu.Lock()
	t.runs = append(t.runs, req)
	release, fail, images := t.release, t.fail[req.Ref], slices.Clone(t.images)
	t.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return v1.Run{}, ctx.Err()
		}
	}
	now := time.Now().UTC()
	run := v1.Run{ID: req.RunID, Ref: req.Ref, Version: req.Ref, SpecHash: req.SpecHash, Trigger: req.Trigger,
		PR: req.PR, SourceRepo: req.SourceRepo, BaseVersion: req.KnownGood, StartedAt: now, FinishedAt: &now, Verdict: v1.VerdictPassed,
		Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultPassed}}, Images: images}
	if fail {
		run.Verdict, run.Message = v1.VerdictFailed, "install: /healthz answered 500"
		run.Tiers[0].Result = v1.ResultFailed
	}
	return run, nil
}

func (c *fakeCluster) PruneSecrets(_ context.Context, stack string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prunes = append(c.prunes, stack)
	return nil, nil
}

func (c *fakeCluster) ResolveImages(_ context.Context, refs []string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for _, ref := range refs {
		if id, ok := c.images[ref]; ok {
			out[ref] = id
		}
	}
	return out, nil
}

func (c *fakeCluster) Nodes(context.Context) (map[string]swarm.Node, error) {
	return map[string]swarm.Node{}, nil
}

func (c *fakeCluster) Drift(_ context.Context, app controllers.WarmApp, _ string) ([]swarm.Drift, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.driftCalls++
	c.driftPins = append(c.driftPins, app.Images)
	if c.driftErr != nil {
		return nil, c.driftErr
	}
	if s := c.stacks[app.Stack]; s != nil {
		return slices.Clone(s.drift), nil
	}
	return nil, nil
}
