package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
)

// Ticker is a Source that periodically enqueues every key List returns: the resync that makes
// a level-based controller notice drift no event told it about (--sweep-interval). Each period
// is shortened by a random fraction of up to Jitter so several daemons, or a daemon and a
// systemd timer, do not sweep in lock-step. It has no initial load; DirWatch does that.
type Ticker struct {
	// Interval is the time between resyncs. Required; Start fails on a non-positive value.
	Interval time.Duration
	// Jitter is the largest fraction of Interval, in [0, 1), taken off each period at random.
	// Optional. Defaults to 0 (exact periods).
	Jitter float64
	// List returns the keys to resync. Required. An error is logged and the tick skipped.
	List func(ctx context.Context) ([]Request, error)
	// Clock is the time source. Optional. Defaults to SystemClock.
	Clock Clock
}

// Start enqueues List's keys every period until ctx ends.
func (t Ticker) Start(ctx context.Context, q Enqueuer) error {
	if t.Interval <= 0 || t.List == nil {
		return errInvalidTicker
	}
	clock := t.Clock
	if clock == nil {
		clock = SystemClock
	}
	log := logr.FromContextOrDiscard(ctx).WithValues("source", "ticker")
	tick := make(chan struct{}, 1)
	var schedule func()
	schedule = func() {
		d := t.Interval - time.Duration(float64(t.Interval)*min(max(t.Jitter, 0), 0.99)*jitterRand())
		clock.AfterFunc(d, func() {
			select {
			case tick <- struct{}{}:
			default:
			}
		})
	}
	schedule()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
			reqs, err := t.List(ctx)
			if err != nil {
				log.Error(err, "List keys to resync")
			}
			for _, req := range reqs {
				q.Enqueue(req)
			}
			schedule()
		}
	}()
	return nil
}

// errInvalidTicker is returned by Ticker.Start when it is missing Interval or List.
var errInvalidTicker = errors.New("ticker needs a positive Interval and a List function")
