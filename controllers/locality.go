package controllers

import (
	"context"
	"fmt"
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
	return r.dataAway(ctx, o.observed.DataNodes(), after)
}

// nodeGone says, after a failed wait, whether a node that ran a task of the stack before the
// deploy cannot run tasks any more (see swarm.NodesGone); nil when the nodes cannot be read.
func (r *WarmCanonicalReconciler) nodeGone(ctx context.Context, o *observation) error {
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return nil
	}
	return swarm.NodesGone(o.observed, nodes)
}

// dataAway returns a *swarm.LocalityError naming every stateful service of st not running
// where its data is (data: service → node id); see swarm.DataAway. It lists the nodes only
// when a service is not where its data is, so a healthy observation costs nothing more.
func (r *WarmCanonicalReconciler) dataAway(ctx context.Context, data map[string]string, st swarm.StackState) error {
	moves := swarm.LocalityMoves(data, st)
	if len(moves) == 0 {
		return nil
	}
	nodes, _ := r.Cluster.Nodes(ctx)
	return swarm.DataAway(moves, nodes)
}

// recordDataNodes records the node of each stateful service's task of a converged stack.
func recordDataNodes(st *v1.WarmCanonicalStatus, state swarm.StackState) {
	for svc, node := range state.DataNodes() {
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
	deadline := r.now().Add(d)
	t := time.NewTicker(soakPoll)
	defer t.Stop()
	baseline := -1 // tasks that failed before convergence (a first start waiting for its db)
	for {
		st, err := r.Cluster.ObserveStack(ctx, stack)
		if err != nil {
			return fmt.Errorf("observe stack %s during the soak: %w", stack, err)
		}
		if baseline < 0 {
			baseline = st.Failures()
		}
		if err := r.dataAway(ctx, o.observed.DataNodes(), st); err != nil {
			// Before the health check: a task moved off a drained node is unhealthy for a
			// moment, and that is the node's doing, not the version's.
			return err
		}
		if !st.Converged() || st.Failures() > baseline {
			return fmt.Errorf("not healthy during the %s soak: %s", d, orNone(st.Problem()+st.FailedTasks()))
		}
		o.after = st
		if !r.now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
