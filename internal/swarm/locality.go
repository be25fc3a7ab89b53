package swarm

import (
	"fmt"
	"strings"
)

// Move is a stateful service whose task is not where its node-local volumes are: it runs on
// another node (To), or on none (To is empty).
type Move struct {
	// Service is the stack-scoped service; Volumes its named volumes.
	Service string
	Volumes []string
	// From is the id of the node holding the data; To the node running the task now.
	From, To string
}

// DataNodes returns, per service with named volumes and a single running task, the id of the
// node running it: where its data is.
func (s StackState) DataNodes() map[string]string {
	out := map[string]string{}
	for _, svc := range s.Services {
		if len(svc.Volumes) > 0 && len(svc.Nodes) == 1 {
			out[svc.Name] = svc.Nodes[0]
		}
	}
	return out
}

// LocalityMoves compares where the data of stateful services is (DataNodes of an earlier
// observation, or a record of it) with the stack now: every such service whose single task
// runs on another node, or which runs no task. Services without volumes, with several tasks,
// or new ones are free to move.
func LocalityMoves(data map[string]string, now StackState) []Move {
	var out []Move
	for _, s := range now.Services {
		from, ok := data[s.Name]
		if !ok || len(s.Volumes) == 0 || len(s.Nodes) > 1 || len(s.Nodes) == 1 && s.Nodes[0] == from {
			continue
		}
		m := Move{Service: s.Name, Volumes: s.Volumes, From: from}
		if len(s.Nodes) == 1 {
			m.To = s.Nodes[0]
		}
		out = append(out, m)
	}
	return out
}

// LocalityError is a stateful task away from its data. Unusable lists the nodes holding the
// data that Swarm cannot schedule on (drained, paused, down): no rollback can put it back.
type LocalityError struct {
	Message  string
	Unusable []string
}

func (e *LocalityError) Error() string { return e.Message }

// DataAway judges the moves of LocalityMoves against the nodes (by id; fetch them only when
// there are moves): a *LocalityError naming every stateful service moved to another node, or
// running on none while the node holding its data cannot run tasks (a task merely starting is
// not away); nil when none is. A swarm of one node that no longer knows the recorded node was
// initialised again on the same machine (docker swarm leave; init): the volumes are where they
// were, and that is no move.
func DataAway(moves []Move, nodes map[string]Node) error {
	name := func(id string) string {
		if n, ok := nodes[id]; ok && n.Hostname != "" {
			return n.Hostname
		}
		return id
	}
	e := &LocalityError{}
	var parts []string
	for _, m := range moves {
		if _, known := nodes[m.From]; !known && len(nodes) == 1 {
			continue
		}
		from := name(m.From)
		n, known := nodes[m.From]
		unusable := known && !n.Usable()
		if unusable {
			e.Unusable = append(e.Unusable, from)
			from += " (" + n.Why() + ")"
		}
		switch {
		case m.To != "":
			parts = append(parts, fmt.Sprintf("service %s with volume %s moved from node %s to node %s, where that volume is not", m.Service, strings.Join(m.Volumes, ", "), from, name(m.To)))
		case unusable:
			parts = append(parts, fmt.Sprintf("service %s with volume %s runs no task: its data is on node %s, which cannot run it", m.Service, strings.Join(m.Volumes, ", "), from))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	e.Message = fmt.Sprintf("data locality: %s (pin the service with a placement constraint)", strings.Join(parts, "; "))
	return e
}

// NodesGone says, after a failed wait, whether a node that ran a task of before (the stack as
// it was before the deploy) cannot run tasks any more: a *LocalityError when it held a stateful
// service's data (no rollback can bring that back), else a *NodeDownError (an infrastructure
// failure: the deploy resumes once the node is back). nil when every such node is usable.
func NodesGone(before StackState, nodes map[string]Node) error {
	loc := &LocalityError{}
	var parts []string
	var down error
	for _, s := range before.Services {
		for _, id := range s.Nodes {
			n, ok := nodes[id]
			if !ok || n.Usable() {
				continue
			}
			if len(s.Volumes) > 0 {
				loc.Unusable = append(loc.Unusable, n.Hostname)
				parts = append(parts, fmt.Sprintf("service %s with volume %s ran on node %s (%s), where its data is", s.Name, strings.Join(s.Volumes, ", "), n.Hostname, n.Why()))
			} else if down == nil {
				down = &NodeDownError{Node: n.Hostname, Stack: before.Name, State: n.Why()}
			}
		}
	}
	if len(parts) > 0 {
		loc.Message = "data locality: " + strings.Join(parts, "; ") + ", and it cannot run tasks any more"
		return loc
	}
	return down
}

// Problem says what keeps a stack from converging, other than an update in progress: the
// first such service and its latest task error; "" when there is none.
func (s StackState) Problem() string {
	for _, svc := range s.Services {
		if svc.UpdateState == "updating" || svc.converged() {
			continue
		}
		msg := fmt.Sprintf("service %s runs %d/%d tasks", svc.Name, svc.Running, svc.Desired)
		if len(svc.Errors) > 0 {
			msg += ": " + svc.Errors[0]
		}
		return msg
	}
	return ""
}

// Failures counts the failed tasks of the current specs of every service.
func (s StackState) Failures() int {
	n := 0
	for _, svc := range s.Services {
		n += svc.Failures
	}
	return n
}

// FailedTasks names the first service with failed tasks and its latest task error; "" when
// none failed.
func (s StackState) FailedTasks() string {
	for _, svc := range s.Services {
		if svc.Failures > 0 {
			msg := fmt.Sprintf("service %s: %d tasks failed", svc.Name, svc.Failures)
			if len(svc.Errors) > 0 {
				msg += ": " + svc.Errors[0]
			}
			return msg
		}
	}
	return ""
}
