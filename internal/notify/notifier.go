package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// KindNotifications is the store kind of what was last sent per object.
const KindNotifications = "Notifications"

// SignatureHeader carries "sha256=<hex>", the HMAC-SHA256 of the body keyed with the secret.
const SignatureHeader = "X-Signature"

// EventHeader carries the event type, for receivers that route on a header.
const EventHeader = "X-Ccci-Event"

// Store is where the notifier remembers what it sent; *store.Store implements it.
type Store interface {
	Get(kind, name string, v any) (bool, error)
	Put(kind, name string, v any) error
}

// Options configure a Notifier.
type Options struct {
	// URL receives the events. Required.
	URL string
	// Secret keys the HMAC-SHA256 signature of each body. Optional; without it events are
	// not signed.
	Secret string
	// Store remembers what was sent, across processes. Required.
	Store Store
	// Client posts the events. Optional. Defaults to a client with a 10s timeout.
	Client *http.Client
	// Attempts bounds the deliveries of one event. Optional. Defaults to 3.
	Attempts int
	// Backoff is the wait before the second attempt, doubled after each. Optional. Defaults to 1s.
	Backoff time.Duration
	// Log receives delivery failures. Optional.
	Log logr.Logger
	// PublicURL is the externally reachable base URL of the daemon (--public-url); events link
	// to its dashboard pages. Optional: without it events carry no links.
	PublicURL *url.URL
	// Lookup names the RecipeTest and the run an event is about, for its links. Optional.
	// Defaults to the RecipeTest named like the WarmCanonical, and no run.
	Lookup Lookup
}

// sent is what the store keeps per object.
type sent struct {
	// Key is the last event delivered: type/reason/version.
	Key string `json:"key"`
	// Failing is whether that event left the object failing or held.
	Failing bool `json:"failing"`
	// Drift is the last drift event delivered (Drifted, DriftCorrected), kept apart from Key:
	// a drift comes and goes while Ready stays as it was.
	Drift string `json:"drift,omitempty"`
}

// Notifier posts events to a webhook. It implements metrics.Observer. Once started (the
// daemon), events are delivered in order by one goroutine, so a slow receiver never holds up a
// reconcile; a one-shot command does not start it, and each event is then delivered before the
// write that announced it returns, so the process cannot exit with an alert unsent.
type Notifier struct {
	opts    Options
	queue   chan Event
	started atomic.Bool

	mu   sync.Mutex
	last map[string]sent // name → last event queued or delivered
}

// queueSize bounds the events waiting for delivery; more are dropped (and logged).
const queueSize = 64

// New returns a Notifier; call Start to deliver.
func New(opts Options) *Notifier {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Attempts < 1 {
		opts.Attempts = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	return &Notifier{opts: opts, queue: make(chan Event, queueSize), last: map[string]sent{}}
}

// StatusWritten implements metrics.Observer: a WarmCanonical status that announces a new event
// queues it.
func (n *Notifier) StatusWritten(kind, name string, data []byte) {
	if kind != v1.KindWarmCanonical {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	prev, ok := n.last[name]
	if !ok {
		_, _ = n.opts.Store.Get(KindNotifications, name, &prev)
	}
	var events []Event
	if e, ok := eventFor(name, data, prev.Failing); ok && e.key() != prev.Key {
		prev.Key, prev.Failing = e.key(), e.failing()
		events = append(events, e)
	}
	if e, ok := driftEventFor(name, data, prev.Drift); ok && e.key() != prev.Drift {
		prev.Drift = e.key()
		events = append(events, e)
	}
	if len(events) == 0 {
		return
	}
	n.last[name] = prev
	for _, e := range events {
		if !n.started.Load() {
			n.deliverAndRemember(context.Background(), e)
			continue
		}
		select {
		case n.queue <- e:
		default:
			n.opts.Log.Info("Notification dropped, queue full", "name", name, "event", e.Type)
		}
	}
}

// RunWritten implements metrics.Observer; runs are announced through the status they lead to.
func (n *Notifier) RunWritten(string, v1.Run) {}

// Start delivers events from a goroutine until ctx ends.
func (n *Notifier) Start(ctx context.Context) {
	n.started.Store(true)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-n.queue:
				n.deliverAndRemember(ctx, e)
			}
		}
	}()
}

// deliverAndRemember posts e and, once delivered, remembers it in the store: a failed delivery
// is tried again by the next process that sees the same status.
func (n *Notifier) deliverAndRemember(ctx context.Context, e Event) {
	if err := n.deliver(ctx, e); err != nil {
		n.opts.Log.Error(err, "Notification not delivered", "name", e.Name, "event", e.Type)
		return
	}
	var rec sent
	_, _ = n.opts.Store.Get(KindNotifications, e.Name, &rec)
	if e.drift() {
		rec.Drift = e.key()
	} else {
		rec.Key, rec.Failing = e.key(), e.failing()
	}
	_ = n.opts.Store.Put(KindNotifications, e.Name, rec)
}

// deliver posts e, retrying with backoff.
func (n *Notifier) deliver(ctx context.Context, e Event) error {
	body, err := json.Marshal(links(n.opts.PublicURL, n.opts.Lookup, e))
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	wait := n.opts.Backoff
	var last error
	for attempt := range n.opts.Attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		if last = n.post(ctx, e, body); last == nil {
			return nil
		}
	}
	return fmt.Errorf("post %s event to the webhook after %d attempts: %w", e.Type, n.opts.Attempts, last)
}

func (n *Notifier) post(ctx context.Context, e Event, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.opts.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(EventHeader, string(e.Type))
	if n.opts.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(n.opts.Secret, body))
	}
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
