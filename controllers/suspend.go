package controllers

import (
	"fmt"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// KindSuspension is the store kind of the operators' suspensions of WarmCanonicals.
//
// spec.suspend belongs to the resource files, i.e. to git; an operator who must stop a warm
// app from being promoted now (an incident, a migration by hand) should not have to commit and
// push, and a file edited on the host would be overwritten by the next git pull. So, as
// `flux suspend` does on a cluster, `ccci-controller suspend` records an override in the state
// directory: the object is suspended while either spec.suspend or the override says so, and
// `resume` removes only the override.
const KindSuspension = "Suspension"

// Suspension is an operator's override that suspends one WarmCanonical.
type Suspension struct {
	// Reason says why, for get, describe and the dashboard.
	Reason string `json:"reason"`
	// By says who, when known (the user running the command).
	By string `json:"by,omitempty"`
	// Since is when the object was suspended.
	Since time.Time `json:"since"`
}

// SuspensionStore is the part of the state directory suspend and resume need; *store.Store
// implements it.
type SuspensionStore interface {
	Get(kind, name string, v any) (bool, error)
	Put(kind, name string, v any) error
	Delete(kind, name string) error
}

// Suspend records an operator's suspension of the WarmCanonical name.
func Suspend(s SuspensionStore, name string, sp Suspension) error {
	if sp.Since.IsZero() {
		sp.Since = time.Now().UTC()
	}
	if err := s.Put(KindSuspension, name, sp); err != nil {
		return fmt.Errorf("suspend WarmCanonical %q: %w", name, err)
	}
	return nil
}

// Resume removes the operator's suspension of name and reports whether there was one.
func Resume(s SuspensionStore, name string) (bool, error) {
	sp, err := SuspensionOf(s, name)
	if err != nil || sp == nil {
		return false, err
	}
	if err := s.Delete(KindSuspension, name); err != nil {
		return false, fmt.Errorf("resume WarmCanonical %q: %w", name, err)
	}
	return true, nil
}

// SuspensionOf returns the operator's suspension of name, nil when there is none.
func SuspensionOf(s interface {
	Get(kind, name string, v any) (bool, error)
}, name string) (*Suspension, error) {
	var sp Suspension
	ok, err := s.Get(KindSuspension, name, &sp)
	if err != nil {
		return nil, fmt.Errorf("read suspension of WarmCanonical %q: %w", name, err)
	}
	if !ok {
		return nil, nil
	}
	return &sp, nil
}

// suspended is step 2: spec.suspend or an operator's override. An unreadable override counts
// as none: the store has moved the bad file aside, and a promotion is gated by tests anyway.
func (r *WarmCanonicalReconciler) suspended(wc *v1.WarmCanonical) (bool, string) {
	if wc.Spec.Suspend {
		return true, "spec.suspend is true"
	}
	sp, _ := SuspensionOf(r.Store, wc.Metadata.Name)
	if sp == nil {
		return false, ""
	}
	msg := "suspended by an operator since " + sp.Since.UTC().Format(time.RFC3339)
	if sp.By != "" {
		msg = "suspended by " + sp.By + " since " + sp.Since.UTC().Format(time.RFC3339)
	}
	if sp.Reason != "" {
		msg += ": " + sp.Reason
	}
	return true, msg + " (ccci-controller resume " + wc.Metadata.Name + " lifts it)"
}
