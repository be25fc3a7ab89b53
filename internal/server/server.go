package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// Actions of a trigger request.
const (
	// ActionReconcile reconciles the named objects (kind and name required).
	ActionReconcile = "reconcile"
	// ActionSweep converges every WarmCanonical, like the sweep command.
	ActionSweep = "sweep"
	// ActionTest runs the tiers of a RecipeTest for a ref, like the trigger command.
	ActionTest = "test"
)

// maxBody bounds a trigger request body.
const maxBody = 64 << 10

// Trigger is the body of POST /api/v1/trigger.
type Trigger struct {
	// Action is reconcile, sweep or test. Required.
	Action string `json:"action"`
	// Kind and Name name the object of reconcile and test (test: a RecipeTest).
	Kind string `json:"kind,omitempty"`
	Name string `json:"name,omitempty"`
	// Force retries a failed version (reconcile).
	Force bool `json:"force,omitempty"`
	// Ref, PR and Source say what a test run tests and where it came from (test).
	Ref    string `json:"ref,omitempty"`
	PR     int    `json:"pr,omitempty"`
	Source string `json:"src,omitempty"`
	// Wait makes the response come when the work is done, with its result.
	Wait bool `json:"wait,omitempty"`
	// RequestedAt is the client's token for this request; the reconcile that handles it
	// records it in status.lastHandledReconcileAt. Optional. Defaults to the time received.
	RequestedAt string `json:"requestedAt,omitempty"`
}

// ErrNotFound is returned by a Backend for an unknown object; it answers 404.
var ErrNotFound = errors.New("not found")

// ErrInvalid is wrapped by a Backend for a request it cannot accept; it answers 400.
var ErrInvalid = errors.New("invalid request")

// Backend carries out triggers.
type Backend interface {
	// Trigger does what t asks and returns a JSON-encodable result.
	Trigger(ctx context.Context, t Trigger) (any, error)
}

// Options configure a Server.
type Options struct {
	// Backend carries out triggers. Required.
	Backend Backend
	// Token, when set, is the bearer token every trigger must carry. Required when the server
	// listens on a non-loopback address.
	Token string
	// Ready backs /readyz. Optional; nil means always ready.
	Ready func() bool
	// Checks are the further named checks of /readyz (Docker reachable, swarm active, state
	// directory writable). Optional.
	Checks []Check
	// TriggerRate bounds triggers per second; more are answered 429. Optional. Defaults to
	// DefaultTriggerRate.
	TriggerRate float64
	// Now is the dashboard's clock ("5m ago") and the listener's, for body deadlines. Optional.
	// Defaults to time.Now.
	Now func() time.Time
	// PublicURL is the address clients use when it is not a loopback one (--public-url, e.g.
	// https://ci.example.org): requests must name its host or a loopback one. Optional.
	PublicURL string
	// ReadTimeout bounds reading a request, body included; WriteTimeout writing a response.
	// Optional. Default to DefaultReadTimeout and DefaultWriteTimeout.
	ReadTimeout, WriteTimeout time.Duration
}

// Server is the daemon's HTTP server.
type Server struct {
	opts       Options
	mux        redactingMux
	limit      *limiter
	failures   *clientFailures
	publicHost string
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{opts: opts, mux: redactingMux{http.NewServeMux()}, limit: newLimiter(opts.TriggerRate)}
	s.failures = newClientFailures(s.now)
	if u, err := ParsePublicURL(opts.PublicURL); err == nil && u != nil {
		s.publicHost = u.Hostname()
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.serveReadyz)
	s.mux.HandleFunc("POST /api/v1/trigger", s.trigger)
	return s
}

// Handle adds a handler, for the parts of the HTTP surface other packages build.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler returns the server's handler, which answers only requests for one of its hosts.
func (s *Server) Handler() http.Handler { return s.checkHost(s.mux) }

// ListenAndServe listens on addr and serves until ctx ends. It refuses a non-loopback address
// without a token: the trigger endpoint deploys nothing but runs tests on this host.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if s.opts.Token == "" && !loopback(addr) {
		return fmt.Errorf("listen on %s: a non-loopback address needs a token (valid: --token-file, or a 127.0.0.1 address)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	write := s.opts.WriteTimeout
	if write <= 0 {
		write = DefaultWriteTimeout
	}
	srv := &http.Server{Handler: s.Handler(), BaseContext: func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: min(readHeaderTimeout, s.readTimeout()), ReadTimeout: s.readTimeout(), WriteTimeout: write, IdleTimeout: DefaultIdleTimeout}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logr.FromContextOrDiscard(ctx).Info("Serving HTTP", "address", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve HTTP: %w", err)
	}
	return nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) trigger(w http.ResponseWriter, r *http.Request) {
	body, ok := s.authorize(w, r)
	if !ok {
		return
	}
	var t Trigger
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "malformed JSON: data after the trigger object")
		return
	}
	if t.RequestedAt == "" {
		t.RequestedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	switch t.Action {
	case ActionReconcile, ActionTest:
		if t.Name == "" {
			writeError(w, http.StatusBadRequest, "name is required for action "+t.Action)
			return
		}
	case ActionSweep:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown action %q (valid: %s, %s, %s)", t.Action, ActionReconcile, ActionSweep, ActionTest))
		return
	}
	if t.Wait {
		noWriteDeadline(w)
	}
	res, err := s.opts.Backend.Trigger(r.Context(), t)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		code := http.StatusOK
		if !t.Wait {
			code = http.StatusAccepted
		}
		writeJSON(w, code, res)
	}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
