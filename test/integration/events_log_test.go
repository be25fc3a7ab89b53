//go:build integration

package integration

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	. "github.com/onsi/gomega"
)

// eventLog keeps every service, network, secret and config event of the engine from the start of
// the suite, read from one live subscription. Specs judge writes by it instead of asking the
// daemon for past events: the daemon answers those from a ring of its last few hundred events,
// which the healthcheck execs of suites running beside this one overrun within seconds, so an
// event a few seconds old may already be gone (and "no write" would pass for a lost one).
type eventLog struct {
	mu     sync.Mutex
	msgs   []events.Message
	err    error
	cancel context.CancelFunc
}

// swarmEvents is the suite's event log, started in BeforeSuite and stopped in AfterSuite.
var swarmEvents = &eventLog{}

// start subscribes to the engine's events until stop.
func (l *eventLog) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	f := filters.NewArgs()
	for _, t := range []events.Type{events.ServiceEventType, events.NetworkEventType, events.SecretEventType, events.ConfigEventType} {
		f.Add("type", string(t))
	}
	msgs, errs := docker.Events(ctx, events.ListOptions{Filters: f})
	go func() {
		for {
			select {
			case m := <-msgs:
				l.mu.Lock()
				l.msgs = append(l.msgs, m)
				l.mu.Unlock()
			case err := <-errs:
				l.mu.Lock()
				if !errors.Is(err, context.Canceled) {
					l.err = err
				}
				l.mu.Unlock()
				return
			}
		}
	}()
}

// stop ends the subscription.
func (l *eventLog) stop() {
	if l.cancel != nil {
		l.cancel()
	}
}

// since returns the events of the engine from t on. It fails the spec if the subscription
// ended: a log that stopped listening would report no writes.
func (l *eventLog) since(t time.Time) []events.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	Expect(l.err).NotTo(HaveOccurred(), "the suite's subscription to Docker's events ended")
	var out []events.Message
	for _, m := range l.msgs {
		if m.TimeNano >= t.UnixNano() {
			out = append(out, m)
		}
	}
	return out
}
