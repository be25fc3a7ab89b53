package controllers

import "sync"

// acks holds, per object name, the token of a manual or Drone trigger that the next reconcile
// of the object records in status.lastHandledReconcileAt, so a client that did not wait can
// tell its request was taken (Flux's reconcile.fluxcd.io/requestedAt, without annotations: the
// resource files belong to git).
type acks struct{ m sync.Map }

// add remembers token for the next reconcile of name; a later trigger replaces an earlier one.
func (a *acks) add(name, token string) {
	if token != "" {
		a.m.Store(name, token)
	}
}

// apply moves the pending token of name, if any, into *field.
func (a *acks) apply(name string, field *string) {
	if tok, ok := a.m.LoadAndDelete(name); ok {
		*field = tok.(string)
	}
}

// Acknowledge makes the next reconcile of name record token in lastHandledReconcileAt.
func (r *WarmCanonicalReconciler) Acknowledge(name, token string) { r.acks.add(name, token) }

// Acknowledge makes the next reconcile of name record token in lastHandledReconcileAt.
func (r *RecipeTestReconciler) Acknowledge(name, token string) { r.acks.add(name, token) }
