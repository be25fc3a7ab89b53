package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// checkLocality fails a deploy that moved a stateful task to another node than the one
// holding its volumes (volumes are node-local: the task now runs on empty data). The stack as
// observed is kept in o.after.
func (r *WarmCanonicalReconciler) checkLocality(ctx context.Context, o *observation, stack string) error {
	after, err := r.Cluster.ObserveStack(ctx, stack)
	if err != nil {
		return fmt.Errorf("observe stack %s after the deploy: %w", stack, err)
	}
	o.after = after
	return r.dataAway(ctx, DataNodesOf(o.observed), after)
}

// nodeGone says, after a failed wait, whether a node that ran a task of the stack before the
// deploy cannot run tasks any more: a *LocalityError when it held a stateful service's data
// (no rollback can bring that back), else a *swarm.NodeDownError (an infrastructure failure:
// the promotion resumes once the node is back). nil when every such node is usable.
func (r *WarmCanonicalReconciler) nodeGone(ctx context.Context, o *observation) error {
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return nil
	}
	loc := &LocalityError{}
	var parts []string
	var down error
	for _, s := range o.observed.Services {
		for _, id := range s.Nodes {
			n, ok := nodes[id]
			if !ok || n.Usable() {
				continue
			}
			if len(s.Volumes) > 0 {
				loc.Unusable = append(loc.Unusable, n.Hostname)
				parts = append(parts, fmt.Sprintf("service %s with volume %s ran on node %s (%s), where its data is", s.Name, strings.Join(s.Volumes, ", "), n.Hostname, n.Why()))
			} else if down == nil {
				down = &swarm.NodeDownError{Node: n.Hostname, Stack: o.wc.Spec.Stack, State: n.Why()}
			}
		}
	}
	if len(parts) > 0 {
		loc.Message = "data locality: " + strings.Join(parts, "; ") + ", and it cannot run tasks any more"
		return loc
	}
	return down
}

// LocalityError is a stateful task away from its data. Unusable lists the nodes holding the
// data that Swarm cannot schedule on (drained, paused, down): no rollback can put it back.
type LocalityError struct {
	Message  string
	Unusable []string
}

func (e *LocalityError) Error() string { return e.Message }

// dataAway returns a *LocalityError naming every stateful service of st not running where its
// data is (data: service → node id): moved to another node, or running on none while the node
// holding its data cannot run tasks (a task merely starting is not away). It lists the nodes
// only when a service is not where its data is, so a healthy observation costs nothing more.
func (r *WarmCanonicalReconciler) dataAway(ctx context.Context, data map[string]string, st swarm.StackState) error {
	moves := LocalityMoves(data, st)
	if len(moves) == 0 {
		return nil
	}
	nodes, _ := r.Cluster.Nodes(ctx)
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
			// A swarm of one node that no longer knows the recorded one was initialised again
			// on the same machine (docker swarm leave; init): the volumes are where they were.
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

// dataMoved says which stateful services of the warm app are not where their recorded data is,
// and what to do; "" when all are.
func (r *WarmCanonicalReconciler) dataMoved(ctx context.Context, name string, recorded map[string]string, st swarm.StackState) string {
	err := r.dataAway(ctx, recorded, st)
	if err == nil {
		return ""
	}
	return fmt.Sprintf("%v; nothing is deployed over it (valid: run the task where its data is again, or move the data and accept the node it runs on with ccci-controller reconcile warmcanonical/%s --force)", err, name)
}

// recordDataNodes records the node of each stateful service's task of a converged stack.
func recordDataNodes(st *v1.WarmCanonicalStatus, state swarm.StackState) {
	for svc, node := range DataNodesOf(state) {
		if st.DataNodes == nil {
			st.DataNodes = map[string]string{}
		}
		st.DataNodes[svc] = node
	}
}

// soakPoll is how often the soak looks at the stack.
const soakPoll = time.Second

// soak watches a converged stack for d: every task must stay running and healthy (no task of
// the new spec may fail) on the node holding its data. The first observation that says
// otherwise fails the promotion.
func (r *WarmCanonicalReconciler) soak(ctx context.Context, o *observation, stack string, d time.Duration) error {
	deadline := time.Now().Add(d)
	t := time.NewTicker(soakPoll)
	defer t.Stop()
	baseline := -1 // tasks that failed before convergence (a first start waiting for its db)
	for {
		st, err := r.Cluster.ObserveStack(ctx, stack)
		if err != nil {
			return fmt.Errorf("observe stack %s during the soak: %w", stack, err)
		}
		if baseline < 0 {
			baseline = failures(st)
		}
		if err := r.dataAway(ctx, DataNodesOf(o.observed), st); err != nil {
			// Before the health check: a task moved off a drained node is unhealthy for a
			// moment, and that is the node's doing, not the version's.
			return err
		}
		if !st.Converged() || failures(st) > baseline {
			return fmt.Errorf("not healthy during the %s soak: %s", d, orNone(problemOf(st)+failedTasks(st)))
		}
		o.after = st
		if !time.Now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func failures(st swarm.StackState) int {
	n := 0
	for _, s := range st.Services {
		n += s.Failures
	}
	return n
}

func failedTasks(st swarm.StackState) string {
	for _, s := range st.Services {
		if s.Failures > 0 {
			msg := fmt.Sprintf("service %s: %d tasks failed", s.Name, s.Failures)
			if len(s.Errors) > 0 {
				msg += ": " + s.Errors[0]
			}
			return msg
		}
	}
	return ""
}

// Move is a stateful service whose task is not where its node-local volumes are: it runs on
// another node (To), or on none (To is empty).
type Move struct {
	// Service is the stack-scoped service; Volumes its named volumes.
	Service string
	Volumes []string
	// From is the id of the node holding the data; To the node running the task now.
	From, To string
}

// DataNodesOf returns, per service with named volumes and a single running task, the id of
// the node running it: where its data is.
func DataNodesOf(st swarm.StackState) map[string]string {
	out := map[string]string{}
	for _, s := range st.Services {
		if len(s.Volumes) > 0 && len(s.Nodes) == 1 {
			out[s.Name] = s.Nodes[0]
		}
	}
	return out
}

// LocalityMoves compares where the data of stateful services is (DataNodesOf an earlier
// observation, or the recorded status) with the stack now: every such service whose single
// task runs on another node, or which runs no task. Services without volumes, with several
// tasks, or new ones are free to move.
func LocalityMoves(data map[string]string, now swarm.StackState) []Move {
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
