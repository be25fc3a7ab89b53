package swarm

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ConstraintError says a placement constraint of a service matches no node of the swarm at
// all, whatever their availability: no node has the label or hostname it names. Unlike an
// UnschedulableError (every node drained or down), waiting cannot mend it: the compose files,
// the env that fills them, or the nodes' labels must change. It is a verdict, not an engine
// failure.
type ConstraintError struct {
	// Service is the stack-scoped service; Constraint the constraint no node satisfies.
	Service, Constraint string
}

func (e *ConstraintError) Error() string {
	return fmt.Sprintf("unschedulable: service %s: placement constraint %s matches no node of the swarm (valid: a constraint some node satisfies, see docker node ls and docker node inspect; or add the label with docker node update --label-add)", e.Service, e.Constraint)
}

// UnsatisfiedConstraint returns the first of constraints that no node satisfies, "" when each
// is satisfied by some node (every node is considered, drained or down included: those are
// faults that pass) or cannot be judged here. Constraints are "key==value" or "key!=value"
// with keys node.id, node.hostname, node.role, node.platform.os, node.platform.arch,
// node.labels.NAME and engine.labels.NAME; values compare without case, as Swarm does.
func UnsatisfiedConstraint(constraints []string, nodes map[string]Node) string {
	if len(nodes) == 0 {
		return ""
	}
	for _, c := range constraints {
		key, want, equal, ok := parseConstraint(c)
		if !ok {
			continue
		}
		satisfied := false
		for id, n := range nodes {
			have, known := n.attribute(id, key)
			if !known {
				satisfied = true // an attribute we do not read: never judged unsatisfiable
				break
			}
			if strings.EqualFold(have, want) == equal {
				satisfied = true
				break
			}
		}
		if !satisfied {
			return c
		}
	}
	return ""
}

// parseConstraint splits "key==value" or "key!=value".
func parseConstraint(c string) (key, value string, equal, ok bool) {
	for _, op := range []string{"==", "!="} {
		if k, v, found := strings.Cut(c, op); found {
			return strings.TrimSpace(k), strings.TrimSpace(v), op == "==", true
		}
	}
	return "", "", false, false
}

// attribute reads what a constraint key names on a node; known is false for a key it does
// not read. A missing label reads as "", which no == constraint with a value matches.
func (n Node) attribute(id, key string) (value string, known bool) {
	switch {
	case key == "node.id":
		return id, true
	case key == "node.hostname":
		return n.Hostname, true
	case key == "node.role":
		return n.Role, n.Role != ""
	case key == "node.platform.os":
		return n.OS, n.OS != ""
	case key == "node.platform.arch":
		return n.Arch, n.Arch != ""
	case strings.HasPrefix(key, "node.labels."):
		return n.Labels[strings.TrimPrefix(key, "node.labels.")], true
	case strings.HasPrefix(key, "engine.labels."):
		return n.EngineLabels[strings.TrimPrefix(key, "engine.labels.")], true
	}
	return "", false
}

// unsatisfiable turns an UnschedulableError whose service has a constraint no node satisfies
// into a *ConstraintError; any other error is returned as it is.
func (c *Client) unsatisfiable(ctx context.Context, err error, st StackState) error {
	var u *UnschedulableError
	if !errors.As(err, &u) {
		return err
	}
	for _, svc := range st.Services {
		if svc.Name != u.Service || len(svc.Constraints) == 0 {
			continue
		}
		nodes, nerr := c.Nodes(ctx)
		if nerr != nil {
			return err
		}
		if con := UnsatisfiedConstraint(svc.Constraints, nodes); con != "" {
			return &ConstraintError{Service: svc.Name, Constraint: con}
		}
	}
	return err
}
