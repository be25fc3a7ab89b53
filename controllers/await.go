package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// maxSettledTokens bounds the settled outcomes kept per object for triggers nobody awaits.
const maxSettledTokens = 64

// outcomes keeps, per WarmCanonical, the settled outcome of the reconciles run by the queue for
// each trigger token they handled, so that a waiting HTTP trigger learns what became of its
// request without lending its context to the reconcile: one way into reconciles, the queue's.
// A token is handled by the reconcile that acknowledged it and settles with the first outcome
// after that which is not a wait for a test run (the promotion it led to has finished).
type outcomes struct {
	mu      sync.Mutex
	open    map[string][]string           // name → tokens handled, not yet settled
	done    map[string]map[string]settled // name → token → outcome
	order   map[string][]string           // name → settled tokens, oldest first
	changed chan struct{}                 // closed and replaced at every settle
}

type settled struct {
	out Outcome
	err error
}

// handled records tokens a reconcile of name just acknowledged.
func (o *outcomes) handled(name string, tokens []string) {
	if len(tokens) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.open == nil {
		o.open = map[string][]string{}
	}
	o.open[name] = append(o.open[name], tokens...)
}

// settle gives every handled token of name this outcome and wakes the waiters.
func (o *outcomes) settle(name string, out Outcome, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	tokens := o.open[name]
	delete(o.open, name)
	if len(tokens) == 0 {
		return
	}
	if o.done == nil {
		o.done, o.order = map[string]map[string]settled{}, map[string][]string{}
	}
	if o.done[name] == nil {
		o.done[name] = map[string]settled{}
	}
	for _, t := range tokens {
		o.done[name][t] = settled{out: out, err: err}
		o.order[name] = append(o.order[name], t)
	}
	for len(o.order[name]) > maxSettledTokens {
		delete(o.done[name], o.order[name][0])
		o.order[name] = o.order[name][1:]
	}
	if o.changed != nil {
		close(o.changed)
	}
	o.changed = make(chan struct{})
}

// await waits for the settled outcome of token.
func (o *outcomes) await(ctx context.Context, name, token string) (Outcome, error) {
	for {
		o.mu.Lock()
		s, ok := o.done[name][token]
		if ok {
			delete(o.done[name], token)
			o.order[name] = slices.DeleteFunc(o.order[name], func(t string) bool { return t == token })
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		changed := o.changed
		o.mu.Unlock()
		if ok {
			return s.out, s.err
		}
		select {
		case <-ctx.Done():
			return Outcome{Name: name, Result: ResultError}, fmt.Errorf("wait for WarmCanonical %q to handle the trigger: %w (the reconcile goes on in the daemon)", name, ctx.Err())
		case <-changed:
		}
	}
}

// Await waits until a reconcile of name, run by the queue, handled token (see Acknowledge)
// and settled: its result is anything but a wait for a test run, so a promotion the trigger
// led to has finished. Cancelling ctx stops the wait only; the reconcile goes on.
func (r *WarmCanonicalReconciler) Await(ctx context.Context, name, token string) (Outcome, error) {
	return r.outcomes.await(ctx, name, token)
}
