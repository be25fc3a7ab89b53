package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Timeouts of the listener (Options may shorten them for tests). A slow client cannot hold a
// connection open: the request, body included, must arrive within ReadTimeout.
const (
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds writing a response. A trigger that waits for its work (a
	// test run may take half an hour) and a tier's log are exempt.
	DefaultWriteTimeout = 2 * time.Minute
	DefaultIdleTimeout  = 2 * time.Minute
	readHeaderTimeout   = 10 * time.Second
)

// Failed authentications one client address may make: a burst of authFailureBurst, then one
// each authFailureEvery. They are counted apart from the trigger rate, so that nobody without
// the token can use up the budget of those who have it.
const (
	authFailureBurst = 30
	authFailureEvery = 2 * time.Second
	// maxClients bounds the addresses remembered; past it, those back to a full budget go.
	maxClients = 4096
)

// checkHost answers 421 to a request whose Host is neither a loopback name or address nor the
// host of the public URL. A web page can make a browser send requests to 127.0.0.1 under its
// own name (DNS rebinding); the name it must send is then not one of ours.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowedHost(r.Host) {
			valid := "localhost, a loopback address"
			if s.publicHost != "" {
				valid += ", or " + s.publicHost
			} else {
				valid += ", or the host of --public-url"
			}
			http.Error(w, "misdirected request: this server does not answer to that Host (valid: "+valid+")", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	switch {
	case host == "":
		return false
	case strings.EqualFold(host, "localhost"):
		return true
	case s.publicHost != "" && strings.EqualFold(host, s.publicHost):
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientFailures counts failed authentications per client address, as token buckets.
type clientFailures struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets map[string]*failureBucket
}

type failureBucket struct {
	left float64
	last time.Time
}

func newClientFailures(now func() time.Time) *clientFailures {
	return &clientFailures{now: now, buckets: map[string]*failureBucket{}}
}

// blocked reports whether addr has used up its failures.
func (c *clientFailures) blocked(addr string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.buckets[clientHost(addr)]
	return ok && c.refill(b) < 1
}

// fail counts one failed authentication of addr.
func (c *clientFailures) fail(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	host := clientHost(addr)
	b, ok := c.buckets[host]
	if !ok {
		if len(c.buckets) >= maxClients {
			c.forgetRested()
		}
		b = &failureBucket{left: authFailureBurst, last: c.now()}
		c.buckets[host] = b
	}
	if c.refill(b) >= 1 {
		b.left--
	}
}

func (c *clientFailures) refill(b *failureBucket) float64 {
	now := c.now()
	b.left = min(authFailureBurst, b.left+now.Sub(b.last).Seconds()/authFailureEvery.Seconds())
	b.last = now
	return b.left
}

// forgetRested drops the addresses back to a full budget: remembering them changes nothing.
func (c *clientFailures) forgetRested() {
	for k, b := range c.buckets {
		if c.refill(b) >= authFailureBurst {
			delete(c.buckets, k)
		}
	}
}

// clientHost is the address of the peer, without its port: the connection's, never a header
// a client could set.
func clientHost(remoteAddr string) string {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return h
	}
	return remoteAddr
}

// authorize authenticates a write request and then takes from the trigger rate, in that order:
// an address that failed too often gets 429 before its credentials are looked at, and a
// request without valid credentials never takes from the rate. It returns the body, or
// writes the error and returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if s.failures.blocked(r.RemoteAddr) {
		writeError(w, http.StatusTooManyRequests, "too many failed authentications from this address, retry later")
		return nil, false
	}
	// The body must arrive within its own deadline too, not only within the connection's.
	_ = http.NewResponseController(w).SetReadDeadline(s.now().Add(s.readTimeout()))
	body, code, msg := s.authenticatedBody(w, r)
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		s.failures.fail(r.RemoteAddr)
	}
	if code != 0 {
		writeError(w, code, msg)
		return nil, false
	}
	if !s.limit.allow() {
		writeError(w, http.StatusTooManyRequests, "too many triggers, retry later")
		return nil, false
	}
	return body, true
}

func (s *Server) readTimeout() time.Duration {
	if s.opts.ReadTimeout > 0 {
		return s.opts.ReadTimeout
	}
	return DefaultReadTimeout
}

// noWriteDeadline lifts the write timeout of a response that may rightly take long: a trigger
// that waits for its work, a tier's log.
func noWriteDeadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
}

// ParsePublicURL checks the value of --public-url: empty, or an absolute http or https URL
// with a host, and no user, query or fragment, since links are built under it.
func ParsePublicURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("%q is not an absolute URL (valid: the address clients use, e.g. https://ci.example.org)", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// Not quoted: a user part may hold a password.
		return nil, errors.New("has a user, query or fragment (valid: a base URL such as https://ci.example.org or https://example.org/ccci)")
	}
	return u, nil
}
