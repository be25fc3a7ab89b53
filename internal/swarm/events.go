package swarm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// StackEvents calls changed for every service event (create, update, remove) and container
// event (die, health status, ...) the engine reports, with the stack namespace when the event
// carries it (containers) and the service name otherwise (services), until ctx ends; the
// caller maps either to its stack. It reconnects after a broken stream with a growing pause (1s to 30s), and calls resync after
// every reconnect: events missed while disconnected cannot be replayed, so the caller looks at
// everything once. It returns only when ctx ends.
func (c *Client) StackEvents(ctx context.Context, changed func(stack string), resync func()) {
	pause := time.Second
	first := true
	for ctx.Err() == nil {
		if !first {
			resync()
		}
		first = false
		start := time.Now()
		err := c.streamEvents(ctx, changed)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			pause = time.Second
		}
		_ = err // the stream broke: the daemon restarted or the connection dropped
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (c *Client) streamEvents(ctx context.Context, changed func(string)) error {
	f := filters.NewArgs(filters.Arg("type", string(events.ServiceEventType)), filters.Arg("type", string(events.ContainerEventType)))
	msgs, errs := c.docker.Events(ctx, events.ListOptions{Filters: f})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return fmt.Errorf("docker events: %w", err)
		case m := <-msgs:
			// A healthcheck is an exec every interval: those events say nothing new.
			if strings.HasPrefix(string(m.Action), "exec_") {
				continue
			}
			if stack := stackOfEvent(m); stack != "" {
				changed(stack)
			}
		}
	}
}

// stackOfEvent reads what an event is about: the namespace label the converter puts on
// containers, else (service events carry no labels) the service's name.
func stackOfEvent(m events.Message) string {
	if s := m.Actor.Attributes[v1.LabelStackNamespace]; s != "" {
		return s
	}
	return m.Actor.Attributes["name"]
}
