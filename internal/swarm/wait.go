package swarm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// maxTaskFailures is how many tasks of the current spec may end before a service is judged
// unable to start. More than one, because an app that waits for its database commonly exits once
// or twice at first; Swarm restarts it.
const maxTaskFailures = 3

// pollInterval is how often WaitConverged and the removal waits look again.
const pollInterval = 500 * time.Millisecond

// settlePolls is how many observations in a row, pollInterval apart, must find the stack
// converged with no new task failure before WaitConverged returns. Once is not enough: Swarm
// stops a container its healthcheck found unhealthy, and when the app exits 0 on that SIGTERM,
// Swarm reports the task running for a moment before it is complete. A single look could catch
// that moment and pass a release that is never healthy (seen in a full test run: the red
// sample release judged green).
const settlePolls = 3

// WaitConverged waits until the stack is converged (see StackState.Converged). It fails early,
// naming the service and the task error, when a task cannot succeed: the image does not exist,
// tasks fail repeatedly (non-zero exit, unhealthy after retries), or the update paused or rolled
// back. Tasks still starting (a healthcheck's start period included) are waited for. It returns
// once settlePolls observations in a row find the stack converged, and fails at timeout
// otherwise, with the last observation.
func (c *Client) WaitConverged(ctx context.Context, stack string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last StackState
	settled, failures := 0, 0
	for {
		st, err := c.ObserveStack(ctx, stack)
		switch {
		case err == nil:
			last = st
			if len(st.Services) == 0 {
				return fmt.Errorf("wait for stack %s: it has no service", stack)
			}
			if st.Converged() {
				if settled == 0 || st.failures() != failures {
					settled, failures = 0, st.failures()
				}
				if settled++; settled >= settlePolls {
					return nil
				}
				break
			}
			settled = 0
			if err := cannotConverge(st); err != nil {
				return c.unsatisfiable(ctx, err, st)
			}
			if err := c.nodeDown(ctx, stack); err != nil {
				return err
			}
		case ctx.Err() == nil:
			return fmt.Errorf("wait for stack %s: %w", stack, err)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("wait for stack %s: not converged after %s: %s", stack, timeout, describe(last))
			}
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// cannotConverge returns an error when a service of the stack cannot converge any more.
func cannotConverge(st StackState) error {
	for _, svc := range st.Services {
		switch svc.UpdateState {
		case "paused", "rollback_started", "rollback_paused", "rollback_completed":
			return fmt.Errorf("service %s: update %s: %s%s", svc.Name, svc.UpdateState, svc.UpdateMessage, lastError(svc))
		}
		for _, e := range svc.Errors {
			if pe := pullErrorOf(svc.Name, e); pe != nil && svc.Failures > 0 {
				return pe
			}
		}
		if svc.Unschedulable != "" {
			return &UnschedulableError{Service: svc.Name, Message: svc.Unschedulable}
		}
		if svc.Failures >= maxTaskFailures && svc.Running < svc.Desired {
			if ne := networkSetupErrorOf(svc); ne != nil {
				return ne
			}
			return fmt.Errorf("service %s: %d tasks failed%s", svc.Name, svc.Failures, lastError(svc))
		}
	}
	return nil
}

func lastError(svc ServiceState) string {
	if len(svc.Errors) == 0 {
		return ""
	}
	return ": " + svc.Errors[0]
}

// describe summarises the services that are not converged, for a timeout message.
func describe(st StackState) string {
	var parts []string
	for _, svc := range st.Services {
		if svc.converged() {
			continue
		}
		p := fmt.Sprintf("%s %d/%d running", svc.Name, svc.Running, svc.Desired)
		if svc.Starting > 0 {
			p += fmt.Sprintf(", %d starting", svc.Starting)
		}
		if svc.UpdateState != "" {
			p += ", update " + svc.UpdateState
		}
		p += lastError(svc)
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "no observation"
	}
	return strings.Join(parts, "; ")
}

// UnschedulableError says no node of the swarm can run a task of the service: every node is
// drained, paused or down, or none satisfies its constraints. The swarm, not the stack, has to
// change, so a run that meets it is Aborted, like one that meets a node Down.
type UnschedulableError struct {
	// Service is the stack-scoped service; Message the scheduler's.
	Service, Message string
}

func (e *UnschedulableError) Error() string {
	return fmt.Sprintf("service %s: no node can run its task: %s", e.Service, e.Message)
}

// NodeDownError says a node that ran a task of the stack is Down: the stack cannot converge
// there until the node is back, and it is the infrastructure that failed, not the stack.
type NodeDownError struct {
	// Node is the node's hostname; Stack the stack whose task it ran.
	Node, Stack string
	// State says what the node is: "down" when empty, or "drained", "paused".
	State string
}

func (e *NodeDownError) Error() string {
	state := e.State
	if state == "" {
		state = "down"
	}
	return fmt.Sprintf("node %s, which runs a task of stack %s, is %s", e.Node, e.Stack, state)
}

// nodeDown returns a *NodeDownError when a node that ran a task of the stack is Down. It asks
// only on a multi-node swarm (node endpoints set) and only while the stack is not converged,
// so a healthy observation keeps its two calls.
func (c *Client) nodeDown(ctx context.Context, stack string) error {
	if c.nodes == nil {
		return nil
	}
	nodes, err := c.docker.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	down := map[string]string{}
	for _, n := range nodes {
		if n.Status.State == swarm.NodeStateDown {
			down[n.ID] = n.Description.Hostname
		}
	}
	if len(down) == 0 {
		return nil
	}
	tasks, err := c.docker.TaskList(ctx, swarm.TaskListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	for _, t := range tasks {
		if host, ok := down[t.NodeID]; ok {
			return &NodeDownError{Node: host, Stack: stack}
		}
	}
	return nil
}

// failures is the sum of the services' Failures.
func (s StackState) failures() int {
	n := 0
	for _, svc := range s.Services {
		n += svc.Failures
	}
	return n
}
