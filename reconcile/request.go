package reconcile

import (
	"context"
	"errors"
	"time"
)

// Request names one object to reconcile. It is the queue key: two Requests with the same Kind
// and Name are the same piece of work.
type Request struct {
	// Kind is the object's kind, e.g. "RecipeTest"; it selects the Reconciler.
	Kind string
	// Name is the object's metadata.name.
	Name string
}

// String returns "kind/name", the form used in logs and on the command line.
func (r Request) String() string { return r.Kind + "/" + r.Name }

// Result tells the engine what to do with a key after a reconcile that returned no error.
type Result struct {
	// RequeueAfter, when positive, reconciles the key again after this delay (e.g. a drift
	// check interval or polling a long test run). Zero means wait for the next event. It is
	// ignored when Reconcile returns an error: errors are retried with backoff instead.
	RequeueAfter time.Duration
}

// Reconciler drives one object of a kind towards its desired state.
//
// Reconcile is level-based: the Request says only which object may have changed, never how,
// so it must re-read the desired state and observe the world every time, and be safe to call
// any number of times. The engine never calls Reconcile for the same Request twice at once.
// The context carries a logger with kind, name and reconcileID (logr.FromContextOrDiscard) and
// is cancelled when the shutdown grace period ends.
//
// Return rules: a nil error with a zero Result forgets the key until the next event; a
// positive Result.RequeueAfter reconciles it again after that delay; a non-nil error is logged
// once by the engine and retried with per-key exponential backoff; an error wrapped with
// Terminal is logged and counted but not retried (e.g. an invalid spec, which only an edit
// fixes). A reconciler should return an error or log it, not both.
type Reconciler interface {
	Reconcile(ctx context.Context, req Request) (Result, error)
}

// Func adapts a plain function to a Reconciler.
type Func func(ctx context.Context, req Request) (Result, error)

// Reconcile calls f(ctx, req).
func (f Func) Reconcile(ctx context.Context, req Request) (Result, error) { return f(ctx, req) }

// TerminalError marks an error that retrying cannot fix; the engine logs it, counts it and
// forgets the key until the next event. Create it with Terminal and test for it with
// IsTerminal, which see through wrapping.
type TerminalError struct {
	// Err is the wrapped cause.
	Err error
}

// Error returns the message of the wrapped error.
func (e *TerminalError) Error() string {
	if e.Err == nil {
		return "terminal error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *TerminalError) Unwrap() error { return e.Err }

// Terminal wraps err so the engine does not retry it. Terminal(nil) is nil, so
// `return Result{}, Terminal(err)` is safe whatever err is.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &TerminalError{Err: err}
}

// IsTerminal reports whether err, or any error it wraps, was made by Terminal.
func IsTerminal(err error) bool {
	var t *TerminalError
	return errors.As(err, &t)
}
