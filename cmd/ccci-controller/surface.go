package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/metrics"
	"coopcloud.tech/ccci-controller/internal/notify"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/reconcile"
)

// The daemon's operator surface: metrics, the read-only API and dashboard, plan, suspend and
// resume over HTTP, and the readiness checks. run.go calls instrument before building the
// manager and serveOperatorSurface once the server exists.

// instrument makes the reconcilers and the run pool write through a store that the metrics
// (and any further observers, e.g. the notifier) watch, and returns the recorder the manager
// reports to. sweepInterval is exported for the overdue-sweep alert.
func (c *controller) instrument(sweepInterval time.Duration, observers ...metrics.Observer) *metrics.Recorder {
	rec := metrics.New(metrics.Options{DeployedVersions: c.deployedVersions, LastVerdicts: c.lastVerdicts, SweepInterval: sweepInterval,
		StateWriteErrors: c.store.WriteErrors})
	// c.wc.Store may already be watched by the notifier: watch that store in turn.
	obs := metrics.WrapStore(c.wc.Store, append([]metrics.Observer{rec}, observers...)...)
	c.wc.Store, c.rt.Store, c.pool.Store = obs, obs, obs
	c.imagesRemoved = rec.TestImagesRemoved
	return rec
}

// deployedVersions feeds the deployed-version gauge from the stored statuses.
func (c *controller) deployedVersions() []metrics.DeployedVersion {
	wcs, err := c.view().WarmCanonicals(context.Background())
	if err != nil {
		return nil
	}
	out := make([]metrics.DeployedVersion, 0, len(wcs))
	for _, wc := range wcs {
		d := metrics.DeployedVersion{Name: wc.Name, Version: wc.Status.DeployedVersion}
		if r, ok := wc.Status.Conditions.Get(v1.ConditionReady); ok && r.Status == v1.ConditionTrue {
			d.Ready = true
		}
		if wc.Spec != nil {
			d.Stack = wc.Spec.Stack
		}
		out = append(out, d)
	}
	return out
}

// lastVerdicts feeds the last-verdict gauge: the newest finished run of each RecipeTest that is
// not a pull request's, as the badge shows it.
func (c *controller) lastVerdicts() []metrics.LastVerdict {
	rts, err := c.view().RecipeTests(context.Background())
	if err != nil {
		return nil
	}
	out := make([]metrics.LastVerdict, 0, len(rts))
	for _, rt := range rts {
		out = append(out, metrics.LastVerdict{RecipeTest: rt.Name, Verdict: string(server.LastVerdict(rt.Status.Runs))})
	}
	return out
}

func (c *controller) view() *controllers.View {
	return &controllers.View{Objects: c.objects, Store: c.store}
}

// serveOperatorSurface adds /metrics, the JSON API, the dashboard, plan, suspend and resume to
// srv; enqueue makes the daemon reconcile an object at once.
func (c *controller) serveOperatorSurface(srv *server.Server, rec *metrics.Recorder, enqueue func(reconcile.Request)) {
	srv.Handle("GET /metrics", rec.Handler())
	srv.HandleState(c.view())
	srv.HandlePlan(c)
	srv.HandleSuspend(&suspender{c: c, enqueue: enqueue})
}

// readyChecks are the checks of /readyz besides the engine's initial load.
func (c *controller) readyChecks() []server.Check {
	return []server.Check{
		{Name: "docker", Run: c.swarm.Ping},
		{Name: "swarm", Run: c.swarm.CheckManager},
		{Name: "state", Run: func(context.Context) error {
			f, err := os.CreateTemp(c.store.Dir(), ".readyz-*")
			if err != nil {
				return fmt.Errorf("state directory %s is not writable: %w", c.store.Dir(), err)
			}
			name := f.Name()
			// A page of data, not an empty file: a full file system still creates empty files.
			_, err = f.Write(make([]byte, 4096))
			err = errors.Join(err, f.Close(), os.Remove(name))
			if store.IsNoSpace(err) {
				return fmt.Errorf("no space left on state directory %s: %w", c.store.Dir(), err)
			}
			if err != nil {
				return fmt.Errorf("state directory %s is not writable: %w", c.store.Dir(), err)
			}
			free, err := c.store.Free()
			if err != nil {
				return err
			}
			if free < store.MinFree {
				return fmt.Errorf("no space left on state directory %s: %d KiB free, below the %d KiB a run needs", c.store.Dir(), free>>10, store.MinFree>>10)
			}
			return nil
		}},
	}
}

// Plan implements server.Planner: what the next reconcile of each WarmCanonical would do,
// with no write to Swarm or the state.
func (c *controller) Plan(ctx context.Context, names []string) ([]server.PlanLine, error) {
	if len(names) == 0 {
		all, err := c.objects.List(v1.KindWarmCanonical)
		if err != nil {
			return nil, err
		}
		names = all
	}
	for _, n := range names {
		if obj, err := c.objects.Get(v1.KindWarmCanonical, n); err == nil && obj == nil {
			return nil, fmt.Errorf("WarmCanonical %q is not defined in %s: %w", n, c.objects.Root, server.ErrNotFound)
		}
	}
	// One observation for every object, as a sweep does.
	if err := c.cluster.Snapshot(ctx); err != nil {
		return nil, err
	}
	lines := make([]server.PlanLine, 0, len(names))
	for _, n := range names {
		out, err := c.wc.Plan(ctx, n, false)
		l := server.PlanLine{Name: n, Deployed: out.Deployed, Desired: out.Desired, Action: string(out.Plan.Action),
			Reason: out.Plan.Reason, Message: out.Plan.Message}
		if out.Plan.Action != "" {
			l.Plan = out.Plan.String()
		}
		if obj, _ := c.objects.Get(v1.KindWarmCanonical, n); obj != nil {
			if wc, ok := obj.(*v1.WarmCanonical); ok {
				l.DependsOn = wc.Spec.DependsOn
			}
		}
		switch {
		case err != nil:
			l.Error = err.Error()
		case out.Plan.Action == "" && out.Message != "":
			l.Error = out.Message
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// suspender suspends and resumes in the daemon, and reconciles the object at once so that its
// status says so.
type suspender struct {
	c       *controller
	enqueue func(reconcile.Request)
}

func (s *suspender) Suspend(_ context.Context, name, reason, by string) error {
	if err := s.c.mustExist(name); err != nil {
		return err
	}
	if err := controllers.Suspend(s.c.store, name, controllers.Suspension{Reason: reason, By: by}); err != nil {
		return err
	}
	s.enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: name})
	return nil
}

func (s *suspender) Resume(_ context.Context, name string) (bool, error) {
	if err := s.c.mustExist(name); err != nil {
		return false, err
	}
	ok, err := controllers.Resume(s.c.store, name)
	if ok {
		s.enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: name})
	}
	return ok, err
}

func (c *controller) mustExist(name string) error {
	obj, err := c.objects.Get(v1.KindWarmCanonical, name)
	if err == nil && obj == nil {
		return fmt.Errorf("WarmCanonical %q is not defined in %s: %w", name, c.objects.Root, server.ErrNotFound)
	}
	return nil
}

// acknowledge makes the next reconcile of kind/name record the trigger's token in its status.
func (c *controller) acknowledge(kind, name, token string) {
	if kind == v1.KindWarmCanonical {
		c.wc.Acknowledge(name, token)
	} else {
		c.rt.Acknowledge(name, token)
	}
}

// notifyOptions are the flags of the optional webhook notifications; they hold the notifier
// once built.
type notifyOptions struct {
	// URL receives the events (--notify-url). Empty: no notifications.
	URL string
	// SecretFile holds the key that signs each event (--notify-secret-file).
	SecretFile string
	// PublicURL is the externally reachable base URL of the daemon (--public-url): events link
	// to its dashboard, and the daemon answers requests naming its host.
	PublicURL string

	notifier *notify.Notifier
}

func (o *notifyOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.URL, "notify-url", "", "post JSON events (TestFailed, Promoted, Held, RolledBack, PromotionFailed, Recovered) to this webhook, once per object, reason and version; off when empty")
	cmd.Flags().StringVar(&o.SecretFile, "notify-secret-file", "", "file holding the key of the events' X-Signature: sha256=<HMAC-SHA256 of the body> (with --notify-url)")
	cmd.Flags().StringVar(&o.PublicURL, "public-url", "", "the externally reachable base URL of the daemon's dashboard (e.g. https://ci.example.org): events of --notify-url link to its pages, and run answers requests naming its host besides loopback ones (others get 421); without it events carry no links")
}

// publicURL parses --public-url: empty, or an absolute http or https URL.
func (o *notifyOptions) publicURL() (*url.URL, error) {
	u, err := server.ParsePublicURL(o.PublicURL)
	if err != nil {
		return nil, usageError(fmt.Errorf("--public-url: %w", err))
	}
	return u, nil
}

// wire makes the reconcilers and the run pool write through a store the notifier watches,
// when --notify-url is set.
func (o *notifyOptions) wire(ctx context.Context, c *controller) error {
	public, err := o.publicURL()
	if err != nil {
		return err
	}
	if o.URL == "" {
		if o.SecretFile != "" {
			return usageError(errors.New("--notify-secret-file needs --notify-url"))
		}
		return nil
	}
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError(fmt.Errorf("invalid --notify-url %q (valid: an http or https URL)", o.URL))
	}
	secret := ""
	if o.SecretFile != "" {
		b, err := os.ReadFile(o.SecretFile)
		if err != nil {
			return usageError(fmt.Errorf("read --notify-secret-file: %w", err))
		}
		secret = strings.TrimSpace(string(b))
	}
	o.notifier = notify.New(notify.Options{URL: o.URL, Secret: secret, Store: c.store, Log: logr.FromContextOrDiscard(ctx),
		PublicURL: public, Lookup: c.notifySubject})
	obs := metrics.WrapStore(c.wc.Store, o.notifier)
	c.wc.Store, c.rt.Store, c.pool.Store = obs, obs, obs
	return nil
}

// notifySubject names the RecipeTest that gates a WarmCanonical and its newest run of version
// with verdict, for the links of a notification.
func (c *controller) notifySubject(warm, version string, verdict v1.Verdict) notify.Subject {
	s := notify.Subject{RecipeTest: warm}
	if obj, err := c.objects.Get(v1.KindWarmCanonical, warm); err == nil {
		if wc, ok := obj.(*v1.WarmCanonical); ok {
			wc.Default()
			s.RecipeTest = wc.Spec.RecipeTest
		}
	}
	if verdict == "" {
		return s
	}
	runs, _ := controllers.LoadRuns(c.store, s.RecipeTest)
	for _, r := range runs {
		if r.Version == version && r.Verdict == verdict {
			s.Run = r.ID
			break
		}
	}
	return s
}

// start makes the notifier deliver from its own goroutine (the daemon); one-shot commands
// leave it unstarted, so each event is sent before the command exits.
func (o *notifyOptions) start(ctx context.Context) {
	if o.notifier != nil {
		o.notifier.Start(ctx)
	}
}
