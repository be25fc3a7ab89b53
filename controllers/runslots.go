package controllers

import (
	"context"
	"math"
	"slices"
	"sync"

	"coopcloud.tech/ccci-controller/internal/swarm"
)

// MaxRunsFor is the default bound of test runs at once for a swarm (--max-runs 0): two per CPU
// of the nodes Swarm may schedule on, at least one. A run spends most of its time waiting on
// Swarm (deploys converging, healthchecks, backups), not computing, so runs of different
// recipes overlap well beyond one per CPU.
func MaxRunsFor(nodes map[string]swarm.Node) int {
	var cpus float64
	for _, n := range nodes {
		if n.Usable() {
			cpus += n.CPUs
		}
	}
	return max(1, int(math.Round(2*cpus)))
}

// runSlots hands out at most max slots, fairly across RecipeTests: a freed slot goes to the
// RecipeTest with the fewest runs going, and among equals to the run waiting longest, so a
// recipe with many queued runs never starves another.
type runSlots struct {
	mu      sync.Mutex
	max     int
	total   int
	running map[string]int // by RecipeTest
	waiting []*slotWaiter  // in arrival order
}

type slotWaiter struct {
	key   string
	ready chan struct{}
}

func newRunSlots(max int) *runSlots {
	return &runSlots{max: max, running: map[string]int{}}
}

// acquire takes a slot for a run of RecipeTest key, waiting for one until ctx ends; queued,
// when set, is called once the run waits.
func (s *runSlots) acquire(ctx context.Context, key string, queued func()) error {
	s.mu.Lock()
	if s.total < s.max {
		s.take(key)
		s.mu.Unlock()
		return nil
	}
	w := &slotWaiter{key: key, ready: make(chan struct{})}
	s.waiting = append(s.waiting, w)
	s.mu.Unlock()
	if queued != nil {
		queued()
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.Index(s.waiting, w); i >= 0 {
			s.waiting = slices.Delete(s.waiting, i, i+1)
			s.mu.Unlock()
			return ctx.Err()
		}
		s.mu.Unlock()
		s.release(key) // granted as ctx ended: hand it on
		return ctx.Err()
	}
}

// release gives back a slot of RecipeTest key and grants freed slots to waiting runs.
func (s *runSlots) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.running[key]--; s.running[key] <= 0 {
		delete(s.running, key)
	}
	for s.total < s.max && len(s.waiting) > 0 {
		next := 0
		for i, w := range s.waiting {
			if s.running[w.key] < s.running[s.waiting[next].key] {
				next = i
			}
		}
		w := s.waiting[next]
		s.waiting = slices.Delete(s.waiting, next, next+1)
		s.take(w.key)
		close(w.ready)
	}
}

func (s *runSlots) take(key string) {
	s.total++
	s.running[key]++
}

// counts returns the runs going and the runs waiting for a slot.
func (s *runSlots) counts() (running, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total, len(s.waiting)
}
