package tiers

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/secrets"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// Swarm is what a Runner needs of a Docker daemon in swarm mode; *swarm.Client implements it.
type Swarm interface {
	Deploy(ctx context.Context, s *swarm.Stack, opts swarm.DeployOptions) (swarm.DeployResult, error)
	WaitConverged(ctx context.Context, stack string, timeout time.Duration) error
	ObserveStack(ctx context.Context, name string) (swarm.StackState, error)
	Exec(ctx context.Context, stack, service string, cmd []string, env ...string) (swarm.ExecResult, error)
	HasFile(ctx context.Context, stack, service, path string) (bool, error)
	CopyFrom(ctx context.Context, stack, service, path string) (io.ReadCloser, error)
	CopyTo(ctx context.Context, stack, service, dstDir string, tar io.Reader) error
	Remove(ctx context.Context, stack string, withVolumes bool) error
	RemoveData(ctx context.Context, stack string) error
	RunStacks(ctx context.Context, labels map[string]string) (map[string][]string, error)
	StackNetworks(ctx context.Context, stack string) ([]string, error)
	// RunJob runs a custom tier's container (see swarm.Job).
	RunJob(ctx context.Context, j swarm.Job) (swarm.JobResult, error)
	// NewImages starts a run's image resolution cache; ResolveImages resolves every service
	// image of a stack through it (see swarm.Images).
	NewImages() *swarm.Images
	ResolveImages(ctx context.Context, cache *swarm.Images, st *swarm.Stack) ([]swarm.ServiceImage, error)
	// SnapshotImages notes every node's images before a run's first deploy; RemoveRunImages
	// removes, after its teardown, those the run brought that nothing uses (see swarm).
	SnapshotImages(ctx context.Context) (*swarm.NodeImages, error)
	RemoveRunImages(ctx context.Context, before *swarm.NodeImages, refs []string) ([]swarm.RemovedImage, error)
}

// Source is what a Runner needs of a recipe repository; *recipe.Source implements it.
type Source interface {
	Resolve(ctx context.Context, ref string, pr int) (string, error)
	Checkout(ctx context.Context, commit string) (*recipe.Checkout, error)
	Versions(ctx context.Context) (recipe.Versions, error)
}

// Options configure a Runner.
type Options struct {
	// DockerHost is passed to custom tier commands as DOCKER_HOST. Optional. Defaults to the
	// controller's own DOCKER_HOST, else unix:///var/run/docker.sock.
	DockerHost string
	// Labels are put on every object a run deploys, and CollectGarbage removes only run stacks
	// that carry all of them: the owner (v1.LabelOwner, see OwnerID), and in a test suite its
	// own id. Optional.
	Labels map[string]string
	// Leases are the runs' leases in the state directory: a run holds its own while it has
	// objects on Swarm, and CollectGarbage leaves a run whose lease a live process holds.
	// Optional: without it only the runs of this process are known to be alive.
	Leases Leases
	// TeardownTimeout bounds the removal of a run's stacks, which runs on a context of its own
	// so that a cancelled or timed-out run still cleans up. Optional. Defaults to 2m.
	TeardownTimeout time.Duration
	// Secrets reads spec.secrets values (age identities). Optional: without it only file
	// values can be read.
	Secrets *secrets.Resolver
	// TeardownRetryFor bounds how long a failing teardown is retried before the stacks are
	// left to the next garbage collection. Optional. Defaults to 10m.
	TeardownRetryFor time.Duration
	// KeepTestImages leaves on the nodes the images a run pulled (--keep-test-images).
	// Optional. Defaults to false: after a run's stacks are removed, the images it brought onto
	// a node that nothing uses are removed from it (see removeImages).
	KeepTestImages bool
	// ImagesRemoved is told, after each run's image cleanup that removed any, how many images
	// it removed and the bytes it freed (the metrics). Optional.
	ImagesRemoved func(images int, bytes int64)
}

// Leases are per-run locks that other processes can test without taking them;
// *store.Store implements it.
type Leases interface {
	HoldLease(runID string) (release func(), err error)
	LeaseHeld(runID string) (bool, error)
}

// DefaultTeardownRetryFor is Options.TeardownRetryFor when left zero.
const DefaultTeardownRetryFor = 10 * time.Minute

// DefaultTeardownTimeout is Options.TeardownTimeout when left zero.
const DefaultTeardownTimeout = 2 * time.Minute

// Runner runs the test tiers of a recipe version on throw-away stacks. It is safe for
// concurrent use; each Run works on stacks of its own.
type Runner struct {
	swarm Swarm
	opts  Options

	mu     sync.Mutex
	active map[string]string // stack name → run id, while a run of this process owns it

	teardowns sync.WaitGroup // background teardowns of finished runs
}

// WaitTeardowns waits until the stacks of every finished run are removed (or given up on), or
// ctx ends: a one-shot command calls it before it exits, and tests before they look for
// leftovers.
func (r *Runner) WaitTeardowns(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.teardowns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for test stack teardowns: %w", ctx.Err())
	}
}

// NewRunner returns a Runner deploying through sw.
func NewRunner(sw Swarm, opts Options) *Runner {
	if opts.DockerHost == "" {
		opts.DockerHost = os.Getenv("DOCKER_HOST")
	}
	if opts.DockerHost == "" {
		opts.DockerHost = "unix:///var/run/docker.sock"
	}
	if opts.TeardownTimeout <= 0 {
		opts.TeardownTimeout = DefaultTeardownTimeout
	}
	if opts.TeardownRetryFor <= 0 {
		opts.TeardownRetryFor = DefaultTeardownRetryFor
	}
	return &Runner{swarm: sw, opts: opts, active: map[string]string{}}
}

// Request says what to test. Spec should be defaulted (v1.RecipeTest.Default).
type Request struct {
	// RunID identifies the run: it labels the stacks (api/v1 LabelRun) and names them. Required;
	// see NewRunID.
	RunID string
	// Spec is the RecipeTest spec: recipe, compose files, env, tiers, expectedNA, timeout and
	// keepFailedStacks. Required.
	Spec v1.RecipeTestSpec
	// SpecHash is recorded in the run (v1.RecipeTest.SpecHash). Optional.
	SpecHash string
	// Source is the recipe repository. Required.
	Source Source
	// Ref is the candidate: a tag, a branch or a commit; empty with PR set means the pull
	// request's head. Required unless PR is set.
	Ref string
	// PR is the pull request number of the candidate, 0 for none.
	PR int
	// SourceRepo is the repository (owner/name) a Drone-triggered run came from. Optional.
	SourceRepo string
	// Trigger says what started the run. Optional.
	Trigger v1.Trigger
	// KnownGood is the warm app's last known-good version, the upgrade base of from:
	// knownGood. Optional.
	KnownGood string
	// TierTimeout bounds a tier whose spec sets no timeout. Optional; the run's timeout
	// bounds it anyway.
	TierTimeout time.Duration
	// RunDir is the directory for logs (logs/<tier>.log) and artifacts (artifacts/), normally
	// store.RunDir. Required.
	RunDir string
	// Requires are the apps the run needs (spec.requires), resolved. Optional.
	Requires []Required
	// Progress, when set, is called as tiers start and end, with a copy of the record so far.
	// It runs on the run's goroutine and must not block for long.
	Progress func(ProgressEvent)
}

// ProgressEvent reports a tier starting or ending.
type ProgressEvent struct {
	// Run is the record so far.
	Run v1.Run
	// Tier is the tier concerned.
	Tier v1.TierName
	// Done is false when the tier starts, true when it ended; then Result is its result.
	Done   bool
	Result v1.TierResult
}

// claim marks stacks as owned by a run of this process, so CollectGarbage leaves them alone.
func (r *Runner) claim(runID string, stacks ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range stacks {
		r.active[s] = runID
	}
}

// release ends the claim of claim.
func (r *Runner) release(stacks ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range stacks {
		delete(r.active, s)
	}
}

func (r *Runner) isActive(stack string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.active[stack]
	return ok
}
