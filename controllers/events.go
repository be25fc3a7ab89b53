package controllers

import (
	"context"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/reconcile"
)

// Events is the source that feeds the queue from Docker's events: a change to a service or a
// container of a warm app's stack enqueues its WarmCanonical, so drift and failing tasks are
// seen within seconds rather than at the next interval (which stays as the safety net). After a
// reconnect every WarmCanonical is enqueued once, as missed events cannot be replayed. Events
// never write to Swarm by themselves: the reconcile they lead to decides.
type Events struct {
	// Client streams the events. Required.
	Client *swarm.Client
	// Objects maps stacks to their WarmCanonicals. Required.
	Objects Objects
}

// Start implements reconcile.Source.
func (e Events) Start(ctx context.Context, q reconcile.Enqueuer) error {
	go e.Client.StackEvents(ctx, func(what string) {
		for _, n := range warmCanonicalsWhere(e.Objects, func(wc *v1.WarmCanonical) bool { return swarm.OwnsEvent(wc.Spec.Stack, what) }) {
			q.Enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: n})
		}
	}, func() {
		for _, n := range warmCanonicalsWhere(e.Objects, func(*v1.WarmCanonical) bool { return true }) {
			q.Enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: n})
		}
	})
	return nil
}
