package swarm

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/docker/docker/client"
)

// Default Engine API deadlines (see Deadlines).
const (
	DefaultReadTimeout  = 10 * time.Second
	DefaultWriteTimeout = time.Minute
)

// Deadlines bound how long the Engine may take to answer one API call. A daemon that hangs
// (a stuck containerd, a stopped process) still accepts connections on its socket and never
// answers: without a deadline every caller would wait for ever.
type Deadlines struct {
	// Read bounds a read (GET or HEAD): the calls a sweep makes per object, so a short one
	// lets a sweep over a hung engine finish with errors instead of hanging. Optional.
	// Defaults to DefaultReadTimeout.
	Read time.Duration
	// Write bounds any other call (create, update, remove), and reads that reach a registry
	// (the distribution endpoint). Optional. Defaults to DefaultWriteTimeout.
	Write time.Duration
}

// EngineTimeoutError says that the Engine did not answer a call within its deadline. It is an
// engine failure (IsEngineFailure): a run that meets it is Aborted, never red.
type EngineTimeoutError struct {
	// Host is the engine's address, e.g. unix:///var/run/docker.sock.
	Host string
	// Method and Path are the call, e.g. GET /v1.47/services.
	Method, Path string
	// After is the deadline that passed.
	After time.Duration
}

// Error names the engine and the call.
func (e *EngineTimeoutError) Error() string {
	return fmt.Sprintf("the Docker engine at %s does not answer: %s %s got no answer within %s", e.Host, e.Method, e.Path, e.After)
}

// deadlineTransport gives each request a deadline for its response headers. Once the headers
// arrive the deadline is lifted, since a stream (events, logs, a pull's progress) may then run
// for as long as its caller wants.
type deadlineTransport struct {
	base http.RoundTripper
	host string
	d    *atomic.Pointer[Deadlines]
}

func (t *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	d := *t.d.Load()
	after := d.Write
	if (req.Method == http.MethodGet || req.Method == http.MethodHead) && !strings.Contains(req.URL.Path, "/distribution/") {
		after = d.Read
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	timeout := &EngineTimeoutError{Host: t.host, Method: req.Method, Path: req.URL.Path, After: after}
	timer := time.AfterFunc(after, func() { cancel(timeout) })
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() && context.Cause(ctx) == timeout {
		if resp != nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, timeout
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// cancelOnClose releases a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// withDeadlines is the client option, applied last, that wraps the client's transport.
func withDeadlines(d *atomic.Pointer[Deadlines]) client.Opt {
	return func(c *client.Client) error {
		hc := c.HTTPClient()
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc.Transport = &deadlineTransport{base: base, host: c.DaemonHost(), d: d}
		return client.WithHTTPClient(hc)(c)
	}
}

// SetDeadlines sets the Engine API deadlines of every call made from now on, to the manager and
// to the node endpoints; zero fields take their defaults.
func (c *Client) SetDeadlines(d Deadlines) {
	if d.Read <= 0 {
		d.Read = DefaultReadTimeout
	}
	if d.Write <= 0 {
		d.Write = DefaultWriteTimeout
	}
	c.deadlines.Store(&d)
}

// Ping asks the engine whether it answers within ctx. An engine that does not is named, with
// "does not answer", as /readyz shows it.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.docker.Ping(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("the Docker engine at %s does not answer: %w", c.docker.DaemonHost(), ctx.Err())
	}
	return fmt.Errorf("ping the Docker engine at %s: %w", c.docker.DaemonHost(), err)
}
