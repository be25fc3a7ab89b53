package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/secrets"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// RecipeSources is the Recipes of the real recipe package: one *recipe.Source per recipe and
// URL, opened on first use. Within a pass (BeginPass: a sweep or a trigger) each source is
// fetched afresh the first time the pass uses it, whatever another process fetched shortly
// before, so a pass sees every tag as it is now (a moved tag included); outside a pass, and for
// repeated uses within one, a source is fetched at most every FetchInterval.
type RecipeSources struct {
	// Options are passed to recipe.Open. CacheDir is required.
	Options recipe.Options

	mu        sync.Mutex
	sources   map[string]*recipe.Source
	pass      int
	fetchedIn map[string]int // source key → the pass that last fetched it
}

// BeginPass starts a pass: the next use of each source fetches it from its remote.
func (s *RecipeSources) BeginPass() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pass++
}

// Source returns the source of rt's recipe, fetched as the type's comment says.
func (s *RecipeSources) Source(ctx context.Context, rt *v1.RecipeTest) (tiers.Source, error) {
	key := rt.Spec.Recipe + "\x00" + rt.Spec.Source.Git
	s.mu.Lock()
	src, ok := s.sources[key]
	force := s.pass > 0 && s.fetchedIn[key] != s.pass
	if s.fetchedIn == nil {
		s.fetchedIn = map[string]int{}
	}
	s.fetchedIn[key] = s.pass
	s.mu.Unlock()
	if !ok {
		var err error
		if src, err = recipe.Open(ctx, rt.Spec.Recipe, rt.Spec.Source.Git, s.Options); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.sources == nil {
			s.sources = map[string]*recipe.Source{}
		}
		s.sources[key] = src
		s.mu.Unlock()
		// Open has just fetched when the last fetch was old: a pass fetches a source once.
		force = force && src.LastFetch().IsZero()
	}
	if err := src.Fetch(ctx, force); err != nil {
		return nil, err
	}
	return src, nil
}

// SwarmCluster is the Cluster of the real swarm package. Between Snapshot and the end of its
// freshness it answers ObserveStack from one Observe call (two Engine API calls for every stack
// at once) rather than two calls per stack, so a sweep costs a constant number of calls; a
// stack it wrote to is observed afresh.
type SwarmCluster struct {
	// Client is the Docker client. Required.
	Client *swarm.Client
	// Recipes checks out the version to deploy. Required.
	Recipes Recipes
	// Labels are put on every object a deploy creates (a test suite's id). Optional.
	Labels map[string]string
	// Secrets reads spec.secrets values (age identities). Optional: without it only file
	// values can be read.
	Secrets *secrets.Resolver
	// Fresh is how long a snapshot answers ObserveStack. Optional. Defaults to 30s.
	Fresh time.Duration
	// Now is the clock. Optional. Defaults to time.Now.
	Now func() time.Time

	mu      sync.Mutex
	snap    map[string]swarm.StackState
	snapAt  time.Time
	written map[string]bool
	images  *swarm.Images // this pass's image resolutions; a Snapshot starts a new one
	imgAt   time.Time
}

// Snapshot observes every stack at once for the ObserveStack calls that follow.
func (c *SwarmCluster) Snapshot(ctx context.Context) error {
	all, err := c.Client.Observe(ctx)
	if err != nil {
		return fmt.Errorf("observe stacks: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snap, c.snapAt, c.written = all, c.now(), map[string]bool{}
	c.images = nil
	return nil
}

// ResolveImages resolves refs through the pass's cache: a Snapshot starts a new pass, and
// outside passes the cache lasts as long as a snapshot is fresh.
func (c *SwarmCluster) ResolveImages(ctx context.Context, refs []string) (map[string]string, error) {
	c.mu.Lock()
	if now := c.now(); c.images == nil || now.Sub(c.imgAt) >= c.fresh() {
		c.images, c.imgAt = c.Client.NewImages(), now
	}
	images := c.images
	c.mu.Unlock()
	resolved, err := images.Refs(ctx, refs)
	out := make(map[string]string, len(resolved))
	for ref, img := range resolved {
		out[ref] = img.Digest
		if img.Local() {
			out[ref] = img.ID
		}
	}
	return out, err
}

func (c *SwarmCluster) fresh() time.Duration {
	if c.Fresh <= 0 {
		return 30 * time.Second
	}
	return c.Fresh
}

// ObserveStack returns the state of stack, from the snapshot when it is fresh.
func (c *SwarmCluster) ObserveStack(ctx context.Context, stack string) (swarm.StackState, error) {
	fresh := c.Fresh
	if fresh <= 0 {
		fresh = 30 * time.Second
	}
	c.mu.Lock()
	if c.snap != nil && c.now().Sub(c.snapAt) < fresh && !c.written[stack] {
		st, ok := c.snap[stack]
		c.mu.Unlock()
		if !ok {
			st = swarm.StackState{Name: stack}
		}
		return st, nil
	}
	c.mu.Unlock()
	return c.Client.ObserveStack(ctx, stack)
}

func (c *SwarmCluster) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *SwarmCluster) touch(stack string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.written != nil {
		c.written[stack] = true
	}
}

// Deploy checks out version and deploys it as the warm app: the recipe's .env.sample and
// abra.sh exports, the RecipeTest's env rendered for the warm stack, then the WarmCanonical's
// env, with abra's version label on every service.
func (c *SwarmCluster) Deploy(ctx context.Context, app WarmApp, version string) error {
	c.touch(app.Stack)
	return c.withStack(ctx, app, version, func(st *swarm.Stack, opts swarm.DeployOptions) error {
		_, err := c.Client.Deploy(ctx, st, opts)
		return err
	})
}

// Drift compares the warm stack with what a deploy of app at version would send, writing
// nothing; see swarm.Client.Drift.
func (c *SwarmCluster) Drift(ctx context.Context, app WarmApp, version string) ([]swarm.Drift, error) {
	var drift []swarm.Drift
	err := c.withStack(ctx, app, version, func(st *swarm.Stack, opts swarm.DeployOptions) error {
		var err error
		drift, err = c.Client.Drift(ctx, st, opts)
		return err
	})
	return drift, err
}

// withStack checks out version (the app's pinned commit when set), loads it as the warm app's
// stack and calls fn with the deploy's options; the checkout stays until fn returns, as
// configs are read from it.
func (c *SwarmCluster) withStack(ctx context.Context, app WarmApp, version string, fn func(*swarm.Stack, swarm.DeployOptions) error) error {
	rt := app.RecipeTest
	src, err := c.Recipes.Source(ctx, rt)
	if err != nil {
		return err
	}
	co, contents, err := tiers.OpenTree(ctx, src, version, app.Commit, rt.Spec.ComposeFiles)
	if err != nil {
		return err
	}
	defer co.Release()
	st, _, err := tiers.LoadApp(co.Dir, contents, recipe.AppOptions{
		Stack: app.Stack, Recipe: rt.Spec.Recipe, Version: version,
		Templated: rt.Spec.Env, Env: app.Env, ComposeFiles: rt.Spec.ComposeFiles, Reveal: c.Secrets.Reveal,
		TemplatedField: fmt.Sprintf("RecipeTest %q spec.env", rt.Metadata.Name), EnvField: fmt.Sprintf("WarmCanonical %q spec.env", app.Name),
	})
	if err != nil {
		return fmt.Errorf("build WarmCanonical %q: %w", app.Name, err)
	}
	// A warm app's missing secrets are generated like abra's `secret generate`, or inserted
	// from spec.secrets (generate=false ones must be); existing ones are never touched (Swarm
	// secrets are immutable and versioned by name).
	secrets, err := SecretPolicies(c.Secrets, contents.Secrets, app.Secrets, fmt.Sprintf("WarmCanonical %q", app.Name))
	if err != nil {
		return err
	}
	pins := make(map[string]string, len(app.Images))
	for ref, digest := range app.Images {
		pins[ref] = swarm.PinnedRef(ref, digest)
	}
	return fn(st, swarm.DeployOptions{Version: version, Role: v1.RoleWarm, CreateMissingNetworks: true, Secrets: secrets, Labels: c.Labels, CorrectDrift: app.CorrectDrift, Images: pins})
}

// WaitConverged waits for stack; see swarm.Client.WaitConverged.
func (c *SwarmCluster) WaitConverged(ctx context.Context, stack string, timeout time.Duration) error {
	return c.Client.WaitConverged(ctx, stack, timeout)
}

// RemoveServices removes the services of stack, keeping its volumes.
func (c *SwarmCluster) RemoveServices(ctx context.Context, stack string) error {
	c.touch(stack)
	return c.Client.RemoveServices(ctx, stack)
}

// PruneSecrets removes the secret versions no service of stack uses; see
// swarm.Client.PruneSecrets.
func (c *SwarmCluster) PruneSecrets(ctx context.Context, stack string) ([]string, error) {
	c.touch(stack)
	return c.Client.PruneSecrets(ctx, stack)
}

// Nodes returns every node by id; see swarm.Client.Nodes.
func (c *SwarmCluster) Nodes(ctx context.Context) (map[string]swarm.Node, error) {
	return c.Client.Nodes(ctx)
}

// SecretPolicies says how each secret the recipe declares is made on a deploy: inserted from
// given (spec.secrets; an undecryptable value is an error naming the field, never the content),
// else generated, unless .env.sample marks it generate=false: then a missing one fails naming
// the field to set.
func SecretPolicies(r *secrets.Resolver, declared map[string]recipe.SecretSpec, given map[string]v1.SecretValue, object string) (map[string]swarm.SecretPolicy, error) {
	out := map[string]swarm.SecretPolicy{}
	for key, s := range declared {
		p := swarm.SecretPolicy{Length: s.Length, Charset: s.Charset, Generate: s.Generate}
		if v, ok := given[key]; ok {
			value, err := r.Value(object+": spec.secrets."+key, v)
			if err != nil {
				return nil, err
			}
			p.Value = value
		} else if !p.Generate {
			p.Missing = fmt.Sprintf("%s: set spec.secrets.%s to {file: PATH} or {age: <age -a output>} (%s is generate=false in .env.sample)", object, key, s.EnvVar)
		}
		out[key] = p
	}
	for key := range given {
		if _, ok := declared[key]; !ok {
			return nil, fmt.Errorf("%s: spec.secrets.%s: the recipe declares no such secret (valid: %s)", object, key, strings.Join(slices.Sorted(maps.Keys(declared)), ", "))
		}
	}
	return out, nil
}
