package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// Options configure a Manager. The zero value is usable.
type Options struct {
	// Concurrency is the number of workers, i.e. reconciles running at once (--concurrency).
	// Optional. Defaults to 2.
	Concurrency int
	// ShutdownGrace is how long in-flight reconciles may run after Start's context ends before
	// their own contexts are cancelled. Optional. Defaults to 30s.
	ShutdownGrace time.Duration
	// Backoff is the per-key retry backoff after errors. Optional. Defaults to DefaultBackoff.
	Backoff Backoff
	// Clock is the time source for backoff, delayed adds and the shutdown grace. Optional.
	// Defaults to SystemClock.
	Clock Clock
	// Metrics receives counts, durations, retries and queue depth. Optional. Defaults to
	// NopMetrics.
	Metrics Metrics
}

// Enqueuer accepts work; sources are given one. Manager implements it.
type Enqueuer interface {
	// Enqueue marks req to be reconciled as soon as a worker is free.
	Enqueue(req Request)
	// EnqueueAfter marks req to be reconciled once d has passed.
	EnqueueAfter(req Request, d time.Duration)
}

// Source produces requests: a directory watch, a ticker, a channel.
type Source interface {
	// Start performs the source's initial load, enqueueing everything it knows about, and
	// returns; it keeps feeding q from its own goroutines until ctx ends. An error aborts the
	// Manager's Start.
	Start(ctx context.Context, q Enqueuer) error
}

// Manager wires sources, the queue and the workers to the Reconciler of each kind. Register
// reconcilers and add sources before calling Start; Enqueue may be called at any time.
type Manager struct {
	opts        Options
	queue       *queue
	reconcilers map[string]Reconciler
	sources     []Source
	ready       atomic.Bool
	started     atomic.Bool
}

// NewManager returns a Manager with opts' defaults filled in.
func NewManager(opts Options) *Manager {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock
	}
	if opts.Metrics == nil {
		opts.Metrics = NopMetrics{}
	}
	return &Manager{
		opts:        opts,
		queue:       newQueue(opts.Clock, opts.Backoff, opts.Metrics),
		reconcilers: map[string]Reconciler{},
	}
}

// Register makes r the Reconciler of requests of kind. It must be called before Start; a
// second registration of the same kind replaces the first.
func (m *Manager) Register(kind string, r Reconciler) {
	if m.started.Load() {
		panic("reconcile: Register called after Start")
	}
	m.reconcilers[kind] = r
}

// AddSource adds a source of requests. It must be called before Start.
func (m *Manager) AddSource(s Source) {
	if m.started.Load() {
		panic("reconcile: AddSource called after Start")
	}
	m.sources = append(m.sources, s)
}

// Enqueue marks req to be reconciled as soon as a worker is free. Adding a key that is already
// queued does nothing; adding a key that is being reconciled runs it once more afterwards.
func (m *Manager) Enqueue(req Request) { m.queue.add(req) }

// EnqueueAfter marks req to be reconciled once d has passed; d <= 0 is Enqueue. Of several
// pending delayed adds of one key, the earliest wins.
func (m *Manager) EnqueueAfter(req Request, d time.Duration) { m.queue.addAfter(req, d) }

// Ready reports whether every source has finished its initial load, i.e. every object known
// at start-up has been enqueued. It backs the daemon's /readyz.
func (m *Manager) Ready() bool { return m.ready.Load() }

// Start runs the workers and the sources and blocks until ctx ends. It then stops taking work,
// lets in-flight reconciles finish for up to Options.ShutdownGrace, cancels their contexts, and
// returns once they have returned. The logger in ctx (logr.FromContextOrDiscard) is the base of
// every reconcile's logger. Start returns an error if a source fails to start or if reconciles
// ignore cancellation; it returns nil after a clean shutdown. A Manager is started once.
func (m *Manager) Start(ctx context.Context) error {
	if !m.started.CompareAndSwap(false, true) {
		return errors.New("start manager: already started")
	}
	log := logr.FromContextOrDiscard(ctx)
	// Reconciles outlive ctx by the grace period, so their context is detached from ctx's
	// cancellation and cancelled on its own schedule below.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var workers sync.WaitGroup
	for range m.opts.Concurrency {
		workers.Go(func() { m.work(workCtx, log) })
	}

	sourceCtx, stopSources := context.WithCancel(ctx)
	defer stopSources()
	var err error
	for _, s := range m.sources {
		if err = s.Start(sourceCtx, m); err != nil {
			err = fmt.Errorf("start source %T: %w", s, err)
			break
		}
	}
	if err == nil {
		m.ready.Store(true)
		log.V(1).Info("Initial load enqueued", "queueDepth", m.queue.len())
		<-ctx.Done()
	}
	m.ready.Store(false)
	stopSources()
	return errors.Join(err, m.shutDown(log, &workers, cancelWork))
}

// shutDown stops the queue, waits for the workers for the grace period, then cancels their
// reconciles and waits as long again for them to return.
func (m *Manager) shutDown(log logr.Logger, workers *sync.WaitGroup, cancelWork context.CancelFunc) error {
	m.queue.shutDown()
	finished := make(chan struct{})
	go func() {
		workers.Wait()
		close(finished)
	}()
	grace := m.opts.ShutdownGrace
	if m.waitFor(finished, grace) {
		return nil
	}
	log.Info("Shutdown grace period over, cancelling reconciles", "grace", grace)
	cancelWork()
	if m.waitFor(finished, grace) {
		return nil
	}
	return fmt.Errorf("stop workers: reconciles still running %s after cancellation", grace)
}

// waitFor reports whether done closes within d on the manager's clock: a test's fake clock
// decides when a grace period is over, as it does for backoff.
func (m *Manager) waitFor(done <-chan struct{}, d time.Duration) bool {
	expired := make(chan struct{})
	t := m.opts.Clock.AfterFunc(d, func() { close(expired) })
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-expired:
		return false
	}
}

// work takes keys from the queue until it shuts down.
func (m *Manager) work(ctx context.Context, log logr.Logger) {
	for {
		req, ok := m.queue.get()
		if !ok {
			return
		}
		m.process(ctx, log, req)
		m.queue.done(req)
	}
}

// process reconciles req once and decides, from the result, when it runs next.
func (m *Manager) process(ctx context.Context, base logr.Logger, req Request) {
	log := base.WithValues("kind", req.Kind, "name", req.Name, "reconcileID", newReconcileID())
	r, ok := m.reconcilers[req.Kind]
	if !ok {
		// Retrying cannot make a reconciler appear; this is a wiring bug, said once per event.
		log.Error(nil, "No reconciler registered for kind")
		m.queue.forget(req)
		return
	}
	start := m.opts.Clock.Now()
	res, err := m.call(logr.NewContext(ctx, log), r, req)
	elapsed := m.opts.Clock.Now().Sub(start)
	switch {
	case IsTerminal(err):
		m.queue.forget(req)
		m.opts.Metrics.ReconcileDone(req.Kind, OutcomeTerminal, elapsed)
		log.Error(err, "Reconcile failed, not retrying until the next change")
	case err != nil:
		d := m.queue.retry(req)
		m.opts.Metrics.ReconcileDone(req.Kind, OutcomeError, elapsed)
		m.opts.Metrics.Retry(req.Kind)
		log.Error(err, "Reconcile failed", "requeueAfter", d)
	case res.RequeueAfter > 0:
		m.queue.forget(req)
		m.queue.addAfter(req, res.RequeueAfter)
		m.opts.Metrics.ReconcileDone(req.Kind, OutcomeRequeue, elapsed)
		log.V(1).Info("Reconciled", "requeueAfter", res.RequeueAfter)
	default:
		m.queue.forget(req)
		m.opts.Metrics.ReconcileDone(req.Kind, OutcomeSuccess, elapsed)
		log.V(1).Info("Reconciled")
	}
}

// call runs the reconciler, turning a panic into an error so one bad object cannot take the
// daemon down; the key is then retried with backoff like any other failure.
func (m *Manager) call(ctx context.Context, r Reconciler, req Request) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reconcile %s: panic: %v\n%s", req, p, debug.Stack())
		}
	}()
	return r.Reconcile(ctx, req)
}

// newReconcileID returns a short random id that ties together the log lines of one reconcile.
func newReconcileID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
