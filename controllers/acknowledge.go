package controllers

import "sync"

// acks holds, per object name, the token of a manual or Drone trigger that the next reconcile
// of the object records in status.lastHandledReconcileAt, so a client that did not wait can
// tell its request was taken (Flux's reconcile.fluxcd.io/requestedAt, without annotations: the
// resource files belong to git).
type acks struct {
	mu      sync.Mutex
	pending map[string][]string
}

// add remembers token for the next reconcile of name; several triggers before that reconcile
// are all handled by it, and the status shows the last.
func (a *acks) add(name, token string) {
	if token == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[string][]string{}
	}
	a.pending[name] = append(a.pending[name], token)
}

// apply moves the pending tokens of name, if any, into *field (the last of them) and returns
// them all.
func (a *acks) apply(name string, field *string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	tokens := a.pending[name]
	delete(a.pending, name)
	if len(tokens) > 0 {
		*field = tokens[len(tokens)-1]
	}
	return tokens
}

// Acknowledge makes the next reconcile of name record token in lastHandledReconcileAt.
func (r *WarmCanonicalReconciler) Acknowledge(name, token string) { r.acks.add(name, token) }

// Acknowledge makes the next reconcile of name record token in lastHandledReconcileAt.
func (r *RecipeTestReconciler) Acknowledge(name, token string) { r.acks.add(name, token) }
