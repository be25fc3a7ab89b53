package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/secrets"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/reconcile"
)

// daemonOptions are the flags of run.
type daemonOptions struct {
	Listen        string
	TokenFile     string
	SweepInterval time.Duration
	Concurrency   int
	// ResourceSettle is how long an object whose file vanished keeps its last good spec.
	ResourceSettle time.Duration
}

func newRunCommand(g *globalOptions) *cobra.Command {
	o, d := &controllerOptions{}, &daemonOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the controller daemon: watch resources, sweep periodically, serve the trigger API",
		Long: `Run is the daemon. It removes test stacks a killed process left behind, then reconciles every
object, and again: when its resource file changes (within a second), every --sweep-interval,
every spec.interval of a WarmCanonical, when a test run ends, and when the HTTP API asks
(POST /api/v1/trigger on --listen; /healthz and /readyz for probes). Test runs go to a pool of
--max-runs; a long run never blocks the --concurrency reconcile workers.

It stops on SIGINT or SIGTERM, letting reconciles finish for a grace period; a promotion
interrupted harder is resumed from the state directory at the next start.`,
		Example: `  ccci-controller --resources /etc/ccci/resources --state /var/lib/ccci run --sweep-interval 1h`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), g, o, d)
		},
	}
	cmd.Flags().StringVar(&d.Listen, "listen", "127.0.0.1:8089", "HTTP address of the trigger API and health probes")
	cmd.Flags().StringVar(&d.TokenFile, "token-file", "", "file holding the bearer token the trigger API requires (required off loopback)")
	cmd.Flags().DurationVar(&d.SweepInterval, "sweep-interval", time.Hour, "period of the full resync of every object")
	cmd.Flags().IntVar(&d.Concurrency, "concurrency", 2, "reconciles at once")
	cmd.Flags().DurationVar(&d.ResourceSettle, "resource-settle", controllers.DefaultSettle, "how long an object whose resource file is absent keeps its last good spec before it is forgotten (never undeployed)")
	o.addFlags(cmd)
	return cmd
}

func runDaemon(ctx context.Context, g *globalOptions, o *controllerOptions, d *daemonOptions) error {
	log := g.logger(ctx)
	token := ""
	if d.TokenFile != "" {
		t, err := secrets.ReadToken(d.TokenFile)
		if err != nil {
			return usageError(fmt.Errorf("--token-file: %w", err))
		}
		token = t
	}
	if _, err := o.Notify.publicURL(); err != nil {
		return err
	}
	if d.SweepInterval <= 0 || d.Concurrency < 1 || d.ResourceSettle <= 0 {
		return usageError(errors.New("--sweep-interval, --concurrency and --resource-settle must be positive"))
	}
	c, err := newController(ctx, g, o)
	if err != nil {
		return err
	}
	unlock, ok, err := c.store.TryLock("Daemon", "run")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("another daemon runs on state directory %s (valid: one daemon per state directory; use --server to talk to it)", c.store.Dir())
	}
	defer func() { _ = unlock() }()
	// The note only helps the CLI find this daemon: a full state disk must not keep the daemon
	// from serving get, the dashboard and /readyz, which says what is wrong.
	if err := writeDaemonRecord(c.store.Dir(), g.Resources, d.Listen); err != nil {
		log.Error(err, "Cannot note the daemon in the state directory; commands there need --server or --resources to find it")
	}
	c.objects.Settle = d.ResourceSettle
	// Freshness of the shared observation: short, since edits and triggers come at any time.
	c.cluster.Fresh = 2 * time.Second
	rec := c.instrument(d.SweepInterval)
	o.Notify.start(ctx)
	mgr := reconcile.NewManager(reconcile.Options{Concurrency: d.Concurrency, Metrics: rec})
	c.wake(mgr.Enqueue)
	mgr.Register(v1.KindWarmCanonical, c.wc)
	mgr.Register(v1.KindRecipeTest, c.rt)
	mgr.AddSource(&reconcile.DirWatch{Dir: g.Resources, Parse: controllers.ParseKeys})
	// Docker's events: a hand edit or a failing task is seen within seconds, not at the next
	// interval.
	mgr.AddSource(controllers.Events{Client: c.swarm, Objects: c.objects})
	mgr.AddSource(reconcile.Ticker{Interval: d.SweepInterval, Jitter: 0.1, List: func(ctx context.Context) ([]reconcile.Request, error) {
		if err := c.cluster.Snapshot(ctx); err != nil {
			log.Error(err, "Snapshot for the sweep failed")
		}
		rec.SweepDone()
		c.recipes.BeginPass()
		return c.allKeys()
	}})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := server.New(server.Options{Backend: &daemonBackend{c: c, mgr: mgr}, Token: token, PublicURL: o.Notify.PublicURL, Ready: mgr.Ready, Checks: c.readyChecks()})
	c.serveOperatorSurface(srv, rec, mgr.Enqueue)
	srvErr := make(chan error, 1)
	go func() {
		err := srv.ListenAndServe(ctx, d.Listen)
		srvErr <- err
		if err != nil {
			cancel()
		}
	}()
	// Garbage collection waits on the engine, which may hang or be down: the probes answer
	// meanwhile (/readyz stays 503 until the manager has started and loaded every object).
	if err := c.collectGarbage(ctx); err != nil {
		log.Error(err, "Garbage collection failed")
	}
	log.Info("Controller started", "resources", g.Resources, "state", c.store.Dir(), "listen", d.Listen)
	err = mgr.Start(ctx)
	c.pool.Shutdown()
	c.finish()
	cancel()
	if serr := <-srvErr; serr != nil {
		return serr
	}
	return err
}

// allKeys lists every object of the resources directory.
func (c *controller) allKeys() ([]reconcile.Request, error) {
	var reqs []reconcile.Request
	for _, kind := range []string{v1.KindRecipeTest, v1.KindWarmCanonical} {
		names, err := c.objects.List(kind)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			reqs = append(reqs, reconcile.Request{Kind: kind, Name: n})
		}
	}
	return reqs, nil
}

// daemonBackend carries out the HTTP triggers in the daemon.
type daemonBackend struct {
	c   *controller
	mgr *reconcile.Manager
}

// accepted is the answer to a trigger that does not wait.
type accepted struct {
	Accepted bool   `json:"accepted"`
	Run      string `json:"run,omitempty"`
}

// Trigger implements server.Backend. Every trigger goes through the queue, as edits and the
// timer do: the handler enqueues, and a waiting request waits for the reconcile to acknowledge
// its token and settle, never lending its context to the reconcile (a client that goes away
// changes nothing).
func (b *daemonBackend) Trigger(ctx context.Context, t server.Trigger) (any, error) {
	switch t.Action {
	case server.ActionSweep:
		return b.sweep(ctx, t)
	case server.ActionTest:
		return b.test(ctx, t)
	}
	kind := t.Kind
	if kind != v1.KindRecipeTest && kind != v1.KindWarmCanonical {
		k, err := parseKind(kind)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", server.ErrInvalid, err)
		}
		kind = k
	}
	if obj, err := b.c.objects.Get(kind, t.Name); err == nil && obj == nil {
		return nil, fmt.Errorf("%s %q: %w", kind, t.Name, server.ErrNotFound)
	}
	start := time.Now()
	b.enqueue(kind, t.Name, t.RequestedAt, t.Force)
	if !t.Wait {
		return accepted{Accepted: true}, nil
	}
	if kind == v1.KindWarmCanonical {
		out, err := b.c.wc.Await(ctx, t.Name, t.RequestedAt)
		return toSweepLine(controllers.SweepLine{Outcome: out, Duration: time.Since(start), Err: err}), nil
	}
	return b.c.awaitRecipeTest(ctx, t.Name, t.RequestedAt, start)
}

// enqueue acknowledges token on the object's next reconcile and queues it.
func (b *daemonBackend) enqueue(kind, name, token string, force bool) {
	b.c.acknowledge(kind, name, token)
	if force && kind == v1.KindWarmCanonical {
		b.c.wc.Force(name)
	}
	b.mgr.Enqueue(reconcile.Request{Kind: kind, Name: name})
}

// sweep queues every object, each WarmCanonical with the trigger's token, and, when the
// request waits, collects the settled outcome of each WarmCanonical.
func (b *daemonBackend) sweep(ctx context.Context, t server.Trigger) (any, error) {
	b.c.recipes.BeginPass()
	if err := b.c.cluster.Snapshot(ctx); err != nil {
		return nil, err
	}
	reqs, err := b.c.allKeys()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var names []string
	for _, r := range reqs {
		b.enqueue(r.Kind, r.Name, t.RequestedAt, false)
		if r.Kind == v1.KindWarmCanonical {
			names = append(names, r.Name)
		}
	}
	if !t.Wait {
		return accepted{Accepted: true}, nil
	}
	lines := make([]sweepLine, 0, len(names))
	for _, n := range names {
		out, err := b.c.wc.Await(ctx, n, t.RequestedAt)
		lines = append(lines, toSweepLine(controllers.SweepLine{Outcome: out, Duration: time.Since(start), Err: err}))
		if ctx.Err() != nil {
			break
		}
	}
	return lines, nil
}

// test starts a run in the pool, which lives as long as the daemon, and waits for it when
// asked to. The request's fields alone say what to test: the daemon's environment is not the
// Drone step's.
func (b *daemonBackend) test(ctx context.Context, t server.Trigger) (any, error) {
	_, req, err := (&triggerOptions{Ref: t.Ref, PR: t.PR, Source: t.Source}).request([]string{"recipetest/" + t.Name}, noEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", server.ErrInvalid, err)
	}
	if obj, err := b.c.objects.Get(v1.KindRecipeTest, t.Name); err == nil && obj == nil {
		return nil, fmt.Errorf("RecipeTest %q: %w", t.Name, server.ErrNotFound)
	}
	req.KnownGood = b.c.knownGood(t.Name)
	b.c.recipes.BeginPass()
	id, err := b.c.pool.Start(req)
	if err != nil || !t.Wait {
		return accepted{Accepted: true, Run: id}, err
	}
	return b.c.pool.Wait(ctx, t.Name, id)
}
