package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/secrets"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/reconcile"
)

// controllerOptions are the flags of the commands that reconcile or test.
type controllerOptions struct {
	// MaxRuns bounds the test runs at once (--max-runs).
	MaxRuns int
	// Labels are put on every object deployed (--label key=value, repeatable).
	Labels []string
	// Notify are the webhook notifications (--notify-url, surface.go).
	Notify notifyOptions
	// AgeIdentity is the file of age identities that decrypt spec.secrets values
	// (--age-identity; env CCCI_AGE_IDENTITY).
	AgeIdentity string
	// NodeEndpoints are the Engine endpoints of the swarm's nodes (--node-endpoint NODE=URL,
	// repeatable; env CCCI_NODE_ENDPOINTS, comma-separated).
	NodeEndpoints []string
	// Deadlines bound each Engine API call (--engine-timeout, --engine-read-timeout).
	Deadlines swarm.Deadlines
	// DockerConfig is the Docker CLI config directory whose credentials go with image
	// resolution and service create and update (--docker-config; env DOCKER_CONFIG).
	DockerConfig string
	// KeepTestImages leaves the images test runs pulled on the nodes (--keep-test-images).
	KeepTestImages bool
}

func (o *controllerOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().IntVar(&o.MaxRuns, "max-runs", 0, "test runs at once, shared fairly between recipes; 0 means two per CPU of the swarm's schedulable nodes")
	o.Notify.addFlags(cmd)
	cmd.Flags().StringArrayVar(&o.Labels, "label", nil, "extra label KEY=VALUE on every stack, service, secret and config deployed; garbage collection removes only leftover test stacks carrying all of them (repeatable)")
	cmd.Flags().StringVar(&o.AgeIdentity, "age-identity", os.Getenv("CCCI_AGE_IDENTITY"), "file of age identities (age-keygen's output) that decrypt {age: ...} values of spec.secrets (env CCCI_AGE_IDENTITY); values are read in memory only")
	var fromEnv []string
	if v := os.Getenv("CCCI_NODE_ENDPOINTS"); v != "" {
		fromEnv = []string{v}
	}
	cmd.Flags().DurationVar(&o.Deadlines.Write, "engine-timeout", swarm.DefaultWriteTimeout, "how long the Docker engine may take to answer a call that changes something; a hung engine then Aborts the run, naming it")
	cmd.Flags().DurationVar(&o.Deadlines.Read, "engine-read-timeout", swarm.DefaultReadTimeout, "how long the Docker engine may take to answer a read (the calls a sweep makes per object)")
	cmd.Flags().StringVar(&o.DockerConfig, "docker-config", os.Getenv("DOCKER_CONFIG"), "Docker CLI config directory (config.json auths and credential helpers, as docker login writes them) whose registry credentials go with image resolution and every service create and update, so each node can pull private images (env DOCKER_CONFIG; default ~/.docker); never logged")
	cmd.Flags().BoolVar(&o.KeepTestImages, "keep-test-images", false, "leave on the nodes the images a test run pulled; by default, once a run's stacks are removed, each node's images that the run brought there and that no container uses and no service names (a warm app's) are removed")
	cmd.Flags().StringArrayVar(&o.NodeEndpoints, "node-endpoint", fromEnv, "Engine endpoint NODE=URL of a swarm node (the hostname docker node ls shows; unix://, tcp:// or ssh://), where exec, copy and file checks of its tasks go; repeatable (env CCCI_NODE_ENDPOINTS=NODE=URL,NODE=URL); DOCKER_HOST stays the manager's")
}

func (o *controllerOptions) labels() (map[string]string, error) {
	m := map[string]string{}
	for _, l := range o.Labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, usageError(fmt.Errorf("invalid --label %q (valid: KEY=VALUE)", l))
		}
		m[k] = v
	}
	return m, nil
}

// maxRuns is --max-runs, or for 0 the default from the swarm's capacity (MaxRunsFor).
func (o *controllerOptions) maxRuns(ctx context.Context, sw *swarm.Client) (int, error) {
	switch {
	case o.MaxRuns < 0:
		return 0, usageError(fmt.Errorf("invalid --max-runs %d (valid: 0 for the swarm's capacity, or a positive number)", o.MaxRuns))
	case o.MaxRuns > 0:
		return o.MaxRuns, nil
	}
	nodes, err := sw.Nodes(ctx)
	if err != nil {
		// An engine that is down at start must not keep the daemon from starting; it only
		// costs parallel runs until the next start.
		logr.FromContextOrDiscard(ctx).Info("Cannot read the swarm's capacity, running one test at a time", "error", err.Error())
		return 1, nil
	}
	return controllers.MaxRunsFor(nodes), nil
}

// controller is the wiring of the reconcilers to the real packages, for one process.
type controller struct {
	store   *store.Store
	objects *controllers.Dir
	swarm   *swarm.Client
	cluster *controllers.SwarmCluster
	recipes *controllers.RecipeSources
	runner  *tiers.Runner
	pool    *controllers.RunPool
	wc      *controllers.WarmCanonicalReconciler
	rt      *controllers.RecipeTestReconciler
	// imagesRemoved counts the images test runs removed and the bytes freed; the daemon sets
	// it to its metrics before any run starts (instrument).
	imagesRemoved func(images int, bytes int64)
}

// newController opens the state directory and the Docker client and wires everything; runs
// live as long as ctx.
func newController(ctx context.Context, g *globalOptions, o *controllerOptions) (*controller, error) {
	labels, err := o.labels()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(g.State)
	if err != nil {
		return nil, fmt.Errorf("open state directory: %w", err)
	}
	if mode, ok := st.Tightened(); ok {
		g.logger(ctx).Info("Tightened the state directory, which group or others could enter", "state", st.Dir(), "mode", fmt.Sprintf("%04o", mode), "now", fmt.Sprintf("%04o", store.DirMode))
	}
	sw, err := swarm.NewClient()
	if err != nil {
		return nil, fmt.Errorf("connect to Docker: %w", err)
	}
	if o.Deadlines.Read <= 0 || o.Deadlines.Write <= 0 {
		return nil, usageError(errors.New("--engine-timeout and --engine-read-timeout must be positive"))
	}
	sw.SetDeadlines(o.Deadlines)
	endpoints, err := swarm.ParseNodeEndpoints(o.NodeEndpoints)
	if err != nil {
		return nil, usageError(fmt.Errorf("--node-endpoint: %w", err))
	}
	if err := sw.SetNodeEndpoints(endpoints); err != nil {
		return nil, usageError(fmt.Errorf("--node-endpoint: %w", err))
	}
	if err := sw.SetDockerConfig(o.DockerConfig); err != nil {
		return nil, usageError(fmt.Errorf("--docker-config: %w", err))
	}
	resolver, err := secrets.Load(o.AgeIdentity)
	if err != nil {
		return nil, usageError(fmt.Errorf("--age-identity: %w", err))
	}
	c := &controller{store: st, objects: &controllers.Dir{Root: g.Resources}, swarm: sw}
	c.recipes = &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(st.Dir(), "cache")}}
	c.cluster = &controllers.SwarmCluster{Client: sw, Recipes: c.recipes, Labels: labels, Secrets: resolver}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("name the owner of test runs: %w", err)
	}
	runLabels := maps.Clone(labels)
	if runLabels == nil {
		runLabels = map[string]string{}
	}
	// Test runs' objects carry their owner: garbage collection takes only its own.
	runLabels[v1.LabelOwner] = tiers.OwnerID(host, st.Dir())
	c.runner = tiers.NewRunner(sw, tiers.Options{Labels: runLabels, Secrets: resolver, Leases: st, KeepTestImages: o.KeepTestImages,
		ImagesRemoved: func(images int, bytes int64) {
			if f := c.imagesRemoved; f != nil {
				f(images, bytes)
			}
		}})
	maxRuns, err := o.maxRuns(ctx, sw)
	if err != nil {
		return nil, err
	}
	c.pool = &controllers.RunPool{Objects: c.objects, Store: st, Recipes: c.recipes, Tester: c.runner, Max: maxRuns, Context: ctx}
	c.wc = &controllers.WarmCanonicalReconciler{Objects: c.objects, Store: st, Cluster: c.cluster, Recipes: c.recipes, Runs: c.pool}
	c.rt = &controllers.RecipeTestReconciler{Objects: c.objects, Store: st, Runs: c.pool}
	if err := o.Notify.wire(ctx, c); err != nil {
		return nil, err
	}
	// One-shot commands have no queue: a finished run updates its RecipeTest's status at once;
	// the WarmCanonical waiting on it is driven by Converge. The daemon replaces this (wake).
	c.pool.Wake = func(req reconcile.Request) {
		if req.Kind == v1.KindRecipeTest {
			_, _ = c.rt.Reconcile(ctx, req)
		}
	}
	return c, nil
}

// finishWait bounds how long a command waits at exit for the test stacks of finished runs to
// be removed; what is left then is collected at the next start. An engine that failed under
// the run (restarted, hung a while) takes its retries and settle checks past a minute, and a
// one-shot trigger from CI has no next start soon: leaving its stacks would be worse than the
// wait.
const finishWait = 3 * time.Minute

// finish waits for the background teardowns of finished runs, on a context of its own: an
// interrupted command still cleans up what it can.
func (c *controller) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), finishWait)
	defer cancel()
	if err := c.runner.WaitTeardowns(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ccci-controller: test stacks still being removed after %s are left for the next start's garbage collection\n", finishWait)
	}
}

// wake sets where finished runs and RecipeTest reconciles send the objects to reconcile.
func (c *controller) wake(f func(reconcile.Request)) {
	c.pool.Wake, c.rt.Wake, c.wc.Wake = f, f, f
}

// collectGarbage removes the throw-away stacks a killed process of this state directory left
// behind; a run another live process holds, or another state directory's, stays.
func (c *controller) collectGarbage(ctx context.Context) error {
	if err := c.runner.CollectGarbage(ctx); err != nil {
		return fmt.Errorf("collect leftover test stacks: %w", err)
	}
	return nil
}

// printProgress makes every run print when it waits for a run slot, when it takes one (with
// the runs going and queued then), and its tiers as they start and end.
func (c *controller) printProgress(w io.Writer) {
	var mu sync.Mutex
	c.pool.Scheduled = func(req controllers.RunRequest, queued bool, running, waiting int) {
		mu.Lock()
		defer mu.Unlock()
		what := "running"
		if queued {
			what = "queued for a run slot"
		}
		fmt.Fprintf(w, "  %s %s: %s (runs: %d running, %d queued)\n", req.RecipeTest, progressRef(req), what, running, waiting)
	}
	c.pool.Progress = func(req controllers.RunRequest, ev tiers.ProgressEvent) {
		mu.Lock()
		defer mu.Unlock()
		ref := progressRef(req)
		if !ev.Done {
			fmt.Fprintf(w, "  %s %s: tier %s started\n", req.RecipeTest, ref, ev.Tier)
			return
		}
		reason := ""
		if ev.Result.Reason != "" {
			reason = " (" + ev.Result.Reason + ")"
		}
		fmt.Fprintf(w, "  %s %s: tier %s %s in %s%s\n", req.RecipeTest, ref, ev.Tier, ev.Result.Result, ev.Result.Duration.Round(100*time.Millisecond), reason)
	}
}

// progressRef is how progress lines name a run's candidate.
func progressRef(req controllers.RunRequest) string {
	if req.Ref == "" {
		return fmt.Sprintf("pr %d", req.PR)
	}
	return req.Ref
}

// parseKind maps what a user types to a kind: recipetest, rt, warmcanonical, wc, plurals and
// the kind names themselves.
func parseKind(s string) (string, error) {
	switch strings.ToLower(s) {
	case "recipetest", "recipetests", "rt", "rts":
		return v1.KindRecipeTest, nil
	case "warmcanonical", "warmcanonicals", "wc", "wcs":
		return v1.KindWarmCanonical, nil
	}
	return "", usageError(fmt.Errorf("unknown kind %q (valid: recipetest, rt, warmcanonical, wc, and their plurals)", s))
}

// parseObjectRef parses KIND/NAME.
func parseObjectRef(s string) (v1.Key, error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok || n == "" {
		return v1.Key{}, usageError(fmt.Errorf("invalid object %q (valid: KIND/NAME, e.g. wc/gitea or recipetest/gitea)", s))
	}
	kind, err := parseKind(k)
	if err != nil {
		return v1.Key{}, err
	}
	return v1.Key{Kind: kind, Name: n}, nil
}
