package reconcile

import (
	"math/rand/v2"
	"time"
)

// Backoff computes how long a failing key waits before its next attempt: Base after the first
// failure, doubling with each consecutive failure up to Max, each delay shortened by a random
// fraction of up to Jitter so keys that failed together (the daemon was down) do not retry in
// lock-step. A successful reconcile resets the count.
type Backoff struct {
	// Base is the delay after the first failure. Optional. Defaults to 1s.
	Base time.Duration
	// Max caps the delay. Optional. Defaults to 5m.
	Max time.Duration
	// Jitter is the largest fraction, in [0, 1), taken off a delay at random. Optional.
	// Defaults to 0.2; a negative value means no jitter (deterministic tests).
	Jitter float64
}

// DefaultBackoff is the backoff used when Options.Backoff is zero: 1s doubling to 5m, 20% jitter.
var DefaultBackoff = Backoff{Base: time.Second, Max: 5 * time.Minute, Jitter: 0.2}

// withDefaults fills zero fields from DefaultBackoff.
func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = DefaultBackoff.Base
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = DefaultBackoff.Jitter
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter >= 1:
		b.Jitter = 0.99
	}
	return b
}

// Delay returns the wait after the given number of consecutive failures (1 for the first)
// with r, in [0, 1), choosing the jitter. It is a pure function; the queue passes rand.Float64.
func (b Backoff) Delay(failures int, r float64) time.Duration {
	if failures < 1 {
		failures = 1
	}
	d := b.Base
	// Doubling stops at Max rather than at a shift count so a large failure count can never
	// overflow into a negative duration.
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	// Jitter only ever shortens the delay: Max stays a real cap, and with Jitter below 0.5 a
	// longer failure streak still never waits less than a shorter one.
	return d - time.Duration(float64(d)*b.Jitter*r)
}

// jitterRand is the random source for backoff jitter; a variable so it is easy to find.
var jitterRand = rand.Float64
