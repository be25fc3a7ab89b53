package server

import (
	"sync"
	"time"
)

// DefaultTriggerRate is the default bound on triggers per second; twice as many may come in
// a burst. Drone and a sweep timer need far less; the bound keeps a looping client from
// queueing test runs faster than anyone can read their results.
const DefaultTriggerRate = 5

// limiter is a token bucket: rate tokens a second, up to burst.
type limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		rate = DefaultTriggerRate
	}
	return &limiter{rate: rate, burst: 2 * rate, tokens: 2 * rate, now: time.Now}
}

// allow takes a token if one is left.
func (l *limiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
