package reconcile

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// recordingMetrics counts outcomes and retries by kind.
type recordingMetrics struct {
	mu       sync.Mutex
	outcomes map[string]int // "kind/outcome"
	retries  map[string]int
	maxDepth int
}

func newRecordingMetrics() *recordingMetrics {
	return &recordingMetrics{outcomes: map[string]int{}, retries: map[string]int{}}
}

func (m *recordingMetrics) ReconcileDone(kind string, o Outcome, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outcomes[kind+"/"+string(o)]++
}

func (m *recordingMetrics) Retry(kind string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retries[kind]++
}

func (m *recordingMetrics) QueueDepth(d int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maxDepth = max(m.maxDepth, d)
}

func (m *recordingMetrics) outcome(kind string, o Outcome) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.outcomes[kind+"/"+string(o)]
}

// logLines is a logr sink that keeps every line, safe for concurrent use.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, args)
	}, funcr.Options{Verbosity: 1})
}

func (l *logLines) matching(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return out
}

// startManager runs m.Start in the background and returns a function that stops it and
// returns Start's error.
func startManager(ctx context.Context, m *Manager) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

var _ = Describe("Manager", func() {
	const kind = "WarmCanonical"
	var (
		clock   *fakeClock
		metrics *recordingMetrics
		logs    *logLines
		ctx     context.Context
		a       = Request{Kind: kind, Name: "a"}
	)

	BeforeEach(func() {
		clock = newFakeClock()
		metrics = newRecordingMetrics()
		logs = &logLines{}
		ctx = logr.NewContext(context.Background(), logs.logger())
	})

	newManager := func(r Reconciler) *Manager {
		m := NewManager(Options{
			Clock:         clock,
			Metrics:       metrics,
			Backoff:       Backoff{Base: time.Second, Max: time.Minute, Jitter: -1},
			ShutdownGrace: 200 * time.Millisecond,
		})
		m.Register(kind, r)
		return m
	}

	Context("when a reconcile asks to be requeued", func() {
		It("runs the key again after RequeueAfter and not before", func(sctx SpecContext) {
			var calls atomic.Int32
			m := newManager(Func(func(context.Context, Request) (Result, error) {
				calls.Add(1)
				return Result{RequeueAfter: 10 * time.Minute}, nil
			}))
			stop := startManager(ctx, m)
			defer stop()
			m.Enqueue(a)
			Eventually(clock.Pending).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal([]time.Duration{10 * time.Minute}))
			Expect(calls.Load()).To(Equal(int32(1)))
			clock.Advance(10*time.Minute - time.Second)
			Consistently(calls.Load).WithTimeout(100 * time.Millisecond).WithPolling(10 * time.Millisecond).Should(Equal(int32(1)))
			clock.Advance(time.Second)
			Eventually(calls.Load).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal(int32(2)))
			Expect(metrics.outcome(kind, OutcomeRequeue)).To(BeNumerically(">=", 1))
		}, NodeTimeout(10*time.Second))
	})

	Context("when a reconcile fails", func() {
		It("retries with growing backoff, logs each failure once, and resets after a success", func(sctx SpecContext) {
			var calls atomic.Int32
			failUntil := int32(3) // calls 1..3 fail, 4 succeeds, 5 fails again
			m := newManager(Func(func(context.Context, Request) (Result, error) {
				n := calls.Add(1)
				if n <= failUntil || n == 5 {
					return Result{}, errors.New("daemon unreachable")
				}
				return Result{}, nil
			}))
			stop := startManager(ctx, m)
			defer stop()
			waitCalls := func(n int32) {
				Eventually(calls.Load).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal(n))
			}
			waitTimer := func(d time.Duration) {
				Eventually(clock.Pending).WithTimeout(2*time.Second).WithPolling(5*time.Millisecond).Should(Equal([]time.Duration{d}), "backoff after call %d", calls.Load())
			}

			m.Enqueue(a)
			for i, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
				waitCalls(int32(i + 1))
				waitTimer(d)
				clock.Advance(d)
			}
			By("succeeding on the fourth call")
			waitCalls(4)
			Eventually(func() int { return metrics.outcome(kind, OutcomeSuccess) }).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal(1))
			Expect(clock.Pending()).To(BeEmpty())

			By("failing again after the success")
			m.Enqueue(a)
			waitCalls(5)
			waitTimer(time.Second)

			Expect(logs.matching(`"msg"="Reconcile failed"`)).To(HaveLen(4))
			Expect(metrics.outcome(kind, OutcomeError)).To(Equal(4))
		}, NodeTimeout(10*time.Second))
	})

	Context("when a reconcile returns a terminal error", func() {
		It("logs it once and does not retry it", func(sctx SpecContext) {
			var calls atomic.Int32
			m := newManager(Func(func(context.Context, Request) (Result, error) {
				calls.Add(1)
				return Result{}, Terminal(errors.New(`spec.version "3.6" is not a tag`))
			}))
			stop := startManager(ctx, m)
			defer stop()
			m.Enqueue(a)
			Eventually(func() int { return metrics.outcome(kind, OutcomeTerminal) }).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal(1))
			Expect(clock.Pending()).To(BeEmpty())
			clock.Advance(time.Hour)
			Consistently(calls.Load).WithTimeout(100 * time.Millisecond).WithPolling(10 * time.Millisecond).Should(Equal(int32(1)))
			Expect(logs.matching("not a tag")).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))
	})

	Context("when a reconcile panics", func() {
		It("turns the panic into a retried error", func(sctx SpecContext) {
			var calls atomic.Int32
			m := newManager(Func(func(context.Context, Request) (Result, error) {
				if calls.Add(1) == 1 {
					panic("nil map")
				}
				return Result{}, nil
			}))
			stop := startManager(ctx, m)
			defer stop()
			m.Enqueue(a)
			Eventually(clock.Pending).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(HaveLen(1))
			clock.Advance(time.Second)
			Eventually(calls.Load).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal(int32(2)))
			Expect(logs.matching("nil map")).To(HaveLen(1))
		}, NodeTimeout(10*time.Second))
	})

	It("puts kind, name and a reconcile id into the reconcile's logger", func(sctx SpecContext) {
		m := newManager(Func(func(ctx context.Context, req Request) (Result, error) {
			logr.FromContextOrDiscard(ctx).Info("Inside reconcile")
			return Result{}, nil
		}))
		stop := startManager(ctx, m)
		defer stop()
		m.Enqueue(a)
		m.Enqueue(Request{Kind: kind, Name: "b"})
		Eventually(func() []string { return logs.matching("Inside reconcile") }).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(HaveLen(2))
		lines := logs.matching("Inside reconcile")
		Expect(lines).To(ContainElement(And(ContainSubstring(`"kind"="WarmCanonical"`), ContainSubstring(`"name"="a"`), MatchRegexp(`"reconcileID"="[0-9a-f]{16}"`))))
		Expect(lines[0]).NotTo(Equal(lines[1]))
	}, NodeTimeout(10*time.Second))

	Context("when many goroutines add random keys while workers run", func() {
		It("never reconciles one key twice at once and never loses an add", func(sctx SpecContext) {
			const keys, adders, addsEach = 16, 8, 2000
			var (
				mu        sync.Mutex
				inFlight  = map[Request]bool{}
				overlaps  atomic.Int32
				generated [keys]atomic.Int64 // bumped before each add
				seen      [keys]atomic.Int64 // generation observed at the start of a reconcile
			)
			key := func(i int) Request { return Request{Kind: kind, Name: string(rune('a' + i))} }
			m := NewManager(Options{Concurrency: 8, ShutdownGrace: time.Second})
			m.Register(kind, Func(func(_ context.Context, req Request) (Result, error) {
				mu.Lock()
				if inFlight[req] {
					overlaps.Add(1)
				}
				inFlight[req] = true
				mu.Unlock()
				i := int(req.Name[0] - 'a')
				seen[i].Store(generated[i].Load())
				if rand.IntN(4) == 0 {
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				}
				mu.Lock()
				inFlight[req] = false
				mu.Unlock()
				return Result{}, nil
			}))
			stop := startManager(ctx, m)
			defer stop()

			var wg sync.WaitGroup
			for range adders {
				wg.Go(func() {
					for range addsEach {
						i := rand.IntN(keys)
						generated[i].Add(1)
						m.Enqueue(key(i))
					}
				})
			}
			wg.Wait()
			for i := range keys {
				Eventually(seen[i].Load).WithTimeout(5*time.Second).WithPolling(5*time.Millisecond).Should(Equal(generated[i].Load()), "key %d must be reconciled after its last add", i)
			}
			Expect(overlaps.Load()).To(BeZero())
		}, NodeTimeout(30*time.Second))
	})

	Context("when the context ends", func() {
		It("lets an in-flight reconcile finish within the grace period", func(sctx SpecContext) {
			started := make(chan struct{})
			var ctxErrAtEnd atomic.Value
			m := newManager(Func(func(rctx context.Context, req Request) (Result, error) {
				close(started)
				time.Sleep(50 * time.Millisecond)
				ctxErrAtEnd.Store(errors.Join(rctx.Err(), errors.New("checked")))
				return Result{}, nil
			}))
			stop := startManager(ctx, m)
			m.Enqueue(a)
			Eventually(started).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(BeClosed())
			Expect(stop()).To(Succeed())
			Expect(ctxErrAtEnd.Load()).To(MatchError("checked"), "the reconcile's context must still be live")
		}, NodeTimeout(10*time.Second))

		It("cancels reconciles still running after the grace period and takes no new work", func(sctx SpecContext) {
			started := make(chan struct{}, 1)
			var calls atomic.Int32
			m := newManager(Func(func(rctx context.Context, req Request) (Result, error) {
				calls.Add(1)
				started <- struct{}{}
				<-rctx.Done()
				return Result{}, rctx.Err()
			}))
			stop := startManager(ctx, m)
			m.Enqueue(a)
			Eventually(started).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Receive())
			m.Enqueue(Request{Kind: kind, Name: "b"}) // two workers: b would start at once
			Eventually(started).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Receive())

			stopped := make(chan error, 1)
			go func() { stopped <- stop() }()
			By("keeping the reconciles' contexts live until the clock says the grace is over")
			Eventually(clock.Pending).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal([]time.Duration{200 * time.Millisecond}))
			Consistently(stopped).WithTimeout(100 * time.Millisecond).WithPolling(10 * time.Millisecond).ShouldNot(Receive())
			clock.Advance(200 * time.Millisecond)
			Eventually(stopped).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Receive(BeNil()))
			m.Enqueue(Request{Kind: kind, Name: "c"})
			Consistently(calls.Load).WithTimeout(100 * time.Millisecond).WithPolling(10 * time.Millisecond).Should(Equal(int32(2)))
		}, NodeTimeout(10*time.Second))

		It("reports reconciles that ignore cancellation", func(sctx SpecContext) {
			release := make(chan struct{})
			defer close(release)
			started := make(chan struct{})
			m := newManager(Func(func(context.Context, Request) (Result, error) {
				close(started)
				<-release
				return Result{}, nil
			}))
			stop := startManager(ctx, m)
			m.Enqueue(a)
			Eventually(started).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(BeClosed())
			stopped := make(chan error, 1)
			go func() { stopped <- stop() }()
			for range 2 { // the grace period, then as long again after cancelling
				Eventually(clock.Pending).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal([]time.Duration{200 * time.Millisecond}))
				Consistently(stopped).WithTimeout(50 * time.Millisecond).WithPolling(10 * time.Millisecond).ShouldNot(Receive())
				clock.Advance(200 * time.Millisecond)
			}
			Eventually(stopped).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Receive(MatchError(ContainSubstring("still running"))))
		}, NodeTimeout(10*time.Second))
	})

	It("becomes ready once every source has loaded", func(sctx SpecContext) {
		m := newManager(Func(func(context.Context, Request) (Result, error) { return Result{}, nil }))
		gate := make(chan struct{})
		m.AddSource(sourceFunc(func(ctx context.Context, q Enqueuer) error {
			<-gate
			q.Enqueue(a)
			return nil
		}))
		stop := startManager(ctx, m)
		defer stop()
		Consistently(m.Ready).WithTimeout(100 * time.Millisecond).WithPolling(10 * time.Millisecond).Should(BeFalse())
		close(gate)
		Eventually(m.Ready).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(BeTrue())
		Eventually(func() int { return metrics.outcome(kind, OutcomeSuccess) }).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Equal(1))
	}, NodeTimeout(10*time.Second))

	It("returns a source's start error", func(sctx SpecContext) {
		m := newManager(Func(func(context.Context, Request) (Result, error) { return Result{}, nil }))
		m.AddSource(&DirWatch{Dir: "/nonexistent/ccci", Parse: func(string, []byte) map[Request]string { return nil }})
		Expect(m.Start(ctx)).To(MatchError(ContainSubstring("/nonexistent/ccci")))
		Expect(m.Ready()).To(BeFalse())
	}, NodeTimeout(10*time.Second))
})

// sourceFunc adapts a function to a Source.
type sourceFunc func(ctx context.Context, q Enqueuer) error

func (f sourceFunc) Start(ctx context.Context, q Enqueuer) error { return f(ctx, q) }
