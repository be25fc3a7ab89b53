package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/reconcile"
)

// daemonOptions are the flags of run.
type daemonOptions struct {
	Listen        string
	TokenFile     string
	SweepInterval time.Duration
	Concurrency   int
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
	o.addFlags(cmd)
	return cmd
}

func runDaemon(ctx context.Context, g *globalOptions, o *controllerOptions, d *daemonOptions) error {
	log := g.logger(ctx)
	token := ""
	if d.TokenFile != "" {
		b, err := os.ReadFile(d.TokenFile)
		if err != nil {
			return usageError(fmt.Errorf("read --token-file: %w", err))
		}
		token = strings.TrimSpace(string(b))
	}
	if d.SweepInterval <= 0 || d.Concurrency < 1 || o.MaxRuns < 1 {
		return usageError(errors.New("--sweep-interval, --concurrency and --max-runs must be positive"))
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
	// Freshness of the shared observation: short, since edits and triggers come at any time.
	c.cluster.Fresh = 2 * time.Second
	if err := c.collectGarbage(ctx); err != nil {
		log.Error(err, "Garbage collection failed")
	}

	rec := c.instrument()
	o.Notify.start(ctx)
	mgr := reconcile.NewManager(reconcile.Options{Concurrency: d.Concurrency, Metrics: rec})
	c.wake(mgr.Enqueue)
	mgr.Register(v1.KindWarmCanonical, c.wc)
	mgr.Register(v1.KindRecipeTest, c.rt)
	mgr.AddSource(&reconcile.DirWatch{Dir: g.Resources, Parse: controllers.ParseKeys})
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
	srv := server.New(server.Options{Backend: &daemonBackend{c: c, mgr: mgr}, Token: token, Ready: mgr.Ready, Checks: c.readyChecks()})
	c.serveOperatorSurface(srv, rec, mgr.Enqueue)
	srvErr := make(chan error, 1)
	go func() {
		err := srv.ListenAndServe(ctx, d.Listen)
		srvErr <- err
		if err != nil {
			cancel()
		}
	}()
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

// Trigger implements server.Backend.
func (b *daemonBackend) Trigger(ctx context.Context, t server.Trigger) (any, error) {
	switch t.Action {
	case server.ActionSweep:
		if !t.Wait {
			reqs, err := b.c.allKeys()
			for _, r := range reqs {
				b.mgr.Enqueue(r)
			}
			return accepted{Accepted: true}, err
		}
		return b.c.sweep(ctx, nil, nil)
	case server.ActionTest:
		_, req, err := (&triggerOptions{Ref: t.Ref, PR: t.PR, Source: t.Source}).request([]string{"recipetest/" + t.Name})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", server.ErrInvalid, err)
		}
		req.Trigger = v1.TriggerDrone
		if t.PR == 0 && t.Source == "" {
			req.Trigger = v1.TriggerManual
		}
		req.RecipeTest = t.Name
		if !t.Wait {
			if obj, err := b.c.objects.Get(v1.KindRecipeTest, t.Name); err == nil && obj == nil {
				return nil, fmt.Errorf("RecipeTest %q: %w", t.Name, server.ErrNotFound)
			}
			req.KnownGood = b.c.knownGood(t.Name)
			id, err := b.c.pool.Start(req)
			return accepted{Accepted: true, Run: id}, err
		}
		return b.c.test(ctx, t.Name, req)
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
	b.c.acknowledge(kind, t.Name, t.RequestedAt)
	if !t.Wait {
		if t.Force && kind == v1.KindWarmCanonical {
			b.c.wc.Force(t.Name)
		}
		b.mgr.Enqueue(reconcile.Request{Kind: kind, Name: t.Name})
		return accepted{Accepted: true}, nil
	}
	return b.c.reconcileNow(ctx, v1.Key{Kind: kind, Name: t.Name}, t.Force), nil
}
