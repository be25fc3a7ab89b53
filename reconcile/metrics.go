package reconcile

import "time"

// Outcome classifies a finished reconcile for metrics.
type Outcome string

// Outcomes of a reconcile.
const (
	// OutcomeSuccess is a nil error and no RequeueAfter.
	OutcomeSuccess Outcome = "success"
	// OutcomeRequeue is a nil error with a positive RequeueAfter.
	OutcomeRequeue Outcome = "requeue"
	// OutcomeError is an error that will be retried with backoff.
	OutcomeError Outcome = "error"
	// OutcomeTerminal is an error wrapped with Terminal; it is not retried.
	OutcomeTerminal Outcome = "terminal"
)

// Metrics receives the engine's measurements. The operator surface implements it with
// Prometheus; the engine itself imports no metrics library. Methods are called from several
// goroutines at once, QueueDepth with the queue's lock held: they must be cheap, safe for
// concurrent use, and must not call back into the Manager.
type Metrics interface {
	// ReconcileDone records one finished reconcile of kind with its outcome and duration.
	ReconcileDone(kind string, outcome Outcome, d time.Duration)
	// Retry records that a key of kind was put back with backoff after an error.
	Retry(kind string)
	// QueueDepth records the number of keys ready and waiting for a worker.
	QueueDepth(depth int)
}

// NopMetrics is a Metrics that discards everything; it is the default.
type NopMetrics struct{}

// ReconcileDone does nothing.
func (NopMetrics) ReconcileDone(string, Outcome, time.Duration) {}

// Retry does nothing.
func (NopMetrics) Retry(string) {}

// QueueDepth does nothing.
func (NopMetrics) QueueDepth(int) {}
