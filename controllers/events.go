package controllers

import (
	"context"
	"strings"

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
		for _, n := range StackIndexOf(e.Objects).Objects(what) {
			q.Enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: n})
		}
	}, func() {
		for _, n := range warmCanonicalsWhere(e.Objects, func(*v1.WarmCanonical) bool { return true }) {
			q.Enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: n})
		}
	})
	return nil
}

// StackIndex maps each warm stack (spec.stack) to the WarmCanonicals that name it.
type StackIndex map[string][]string

// StackIndexOf indexes the valid WarmCanonicals by stack.
func StackIndexOf(objects Objects) StackIndex {
	idx := StackIndex{}
	warmCanonicalsWhere(objects, func(wc *v1.WarmCanonical) bool {
		idx[wc.Spec.Stack] = append(idx[wc.Spec.Stack], wc.Metadata.Name)
		return false
	})
	return idx
}

// Objects returns the WarmCanonicals an event is about. what is a stack namespace (container
// events carry it) or a service name, stack_service (service events carry only that): it
// belongs to the longest indexed stack it starts with, so warm_x_proxy_app is warm_x_proxy's
// and never wakes warm_x as well.
func (idx StackIndex) Objects(what string) []string {
	if names, ok := idx[what]; ok {
		return names
	}
	best := ""
	for stack := range idx {
		if len(stack) > len(best) && strings.HasPrefix(what, stack+"_") {
			best = stack
		}
	}
	return idx[best]
}
