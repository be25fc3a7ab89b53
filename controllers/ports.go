package controllers

import (
	"context"
	"encoding/json"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// The ports below are all the reconcilers know of the world. The real packages plug in through
// thin adapters (adapters.go); unit tests use fakes.

// Objects is the operator's desired state: the resource files.
type Objects interface {
	// Get returns the object kind/name as written (not defaulted). It returns nil and no error
	// when no file defines the object, and an *InvalidError when the document that defines it
	// is invalid.
	Get(kind, name string) (v1.Object, error)
	// List returns the names of every object of kind, invalid ones included, sorted.
	List(kind string) ([]string, error)
}

// Cluster is the part of Swarm a WarmCanonical drives.
type Cluster interface {
	// ObserveStack returns the state of one stack; a stack without services has none.
	ObserveStack(ctx context.Context, stack string) (swarm.StackState, error)
	// Deploy deploys app at version as an update of the existing stack, pruning services the
	// new compose files dropped.
	Deploy(ctx context.Context, app WarmApp, version string) error
	// WaitConverged waits until every service of stack runs healthy, failing early.
	WaitConverged(ctx context.Context, stack string, timeout time.Duration) error
	// RemoveServices removes the services of stack, keeping its volumes (mode: data).
	RemoveServices(ctx context.Context, stack string) error
	// PruneSecrets removes the secrets generated or inserted for stack that no service uses
	// any more, returning their names (see swarm.Client.PruneSecrets).
	PruneSecrets(ctx context.Context, stack string) ([]string, error)
	// Nodes returns every swarm node by id: hostname, availability, state.
	Nodes(ctx context.Context) (map[string]swarm.Node, error)
	// ResolveImages says what each image reference names now: its registry's digest, or the
	// local image ID of an image built on the host; once per reference per pass. A reference
	// that cannot be resolved is left out, its error joined into the error.
	ResolveImages(ctx context.Context, refs []string) (map[string]string, error)
	// Drift lists the services of app's stack whose live spec differs from what a deploy of
	// version would send, writing nothing.
	Drift(ctx context.Context, app WarmApp, version string) ([]swarm.Drift, error)
}

// WarmApp is what Cluster.Deploy needs to deploy a warm app.
type WarmApp struct {
	// Name is the WarmCanonical's name.
	Name string
	// Stack is the stack name (spec.stack).
	Stack string
	// Env is the WarmCanonical's spec.env, merged over the recipe's .env.sample.
	Env v1.Env
	// RecipeTest is the defaulted RecipeTest: source and compose files.
	RecipeTest *v1.RecipeTest
	// Commit is the commit to deploy: the one the promotion's passed run tested. Empty deploys
	// the commit the version's tag names now (rollback, apply).
	Commit string
	// Secrets are the WarmCanonical's spec.secrets: values of generate=false secrets.
	Secrets map[string]v1.SecretValue
	// Images are the digests to deploy, image reference → digest (the promotion's passed
	// run's, else the ones the app was promoted with). Optional; a reference not listed is
	// deployed by tag.
	Images map[string]string
	// CorrectDrift makes a deploy update the services whose live spec drifted (spec.drift:
	// correct).
	CorrectDrift bool
}

// Recipes opens recipe sources.
type Recipes interface {
	// Source returns the source of the recipe a RecipeTest tests, fetched recently enough.
	Source(ctx context.Context, rt *v1.RecipeTest) (tiers.Source, error)
}

// Tester runs test tiers; *tiers.Runner implements it.
type Tester interface {
	// Run runs the tiers of req and returns the run record.
	Run(ctx context.Context, req tiers.Request) (v1.Run, error)
}

// StatusStore is the state directory; *store.Store implements it.
type StatusStore interface {
	Get(kind, name string, v any) (bool, error)
	Put(kind, name string, v any) error
	Lock(ctx context.Context, kind, name string) (func() error, error)
	PutRun(recipeTest, runID string, v any) error
	Runs(recipeTest string) ([]json.RawMessage, error)
	RunDir(recipeTest, runID string) (string, error)
}
