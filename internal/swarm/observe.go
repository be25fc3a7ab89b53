package swarm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// StackState is what Swarm says about one stack.
type StackState struct {
	// Name is the stack (namespace) name.
	Name string
	// Version is abra's coop-cloud.<stack>.version label, read from the service "app" when it
	// exists (as abra does), else from any service carrying it; empty when none does.
	Version string
	// Chaos is abra's coop-cloud.<stack>.chaos label, read like Version.
	Chaos string
	// Services are the stack's services, sorted by name.
	Services []ServiceState
}

// ServiceState is what Swarm says about one service of a stack.
type ServiceState struct {
	// Name is the stack-scoped service name (stack_service).
	Name string
	// Desired is the number of tasks Swarm wants running (replicas, or one per eligible node for
	// a global service).
	Desired int
	// Running counts tasks that are running. Swarm reports a task whose container has a
	// healthcheck as running only once the check passed, so these are also healthy.
	Running int
	// Healthy counts running tasks that passed their healthcheck or have none; see Running.
	Healthy int
	// Starting counts tasks on their way up (pending, assigned, preparing, starting — the
	// latter includes a healthcheck's start period).
	Starting int
	// Unschedulable is the scheduler's message for a task pending for longer than
	// unschedulableGrace because no node can run it ("no suitable node (1 node not available
	// for new tasks)"): a drained, paused or down node, or a constraint nothing satisfies.
	Unschedulable string
	// Failures counts tasks of the current service spec that failed or were rejected.
	Failures int
	// UpdateState is Swarm's update state: "" (never updated), updating, paused, completed,
	// rollback_started, rollback_paused, rollback_completed.
	UpdateState string
	// UpdateMessage is Swarm's message about the update state.
	UpdateMessage string
	// Errors are the distinct errors of the most recent failed tasks, newest first.
	Errors []string
	// Labels are the service labels.
	Labels map[string]string
	// VersionIndex is the service object's version, which changes on every write.
	VersionIndex uint64
	// Nodes are the ids of the nodes running the service's tasks, sorted.
	Nodes []string
	// Constraints are the placement constraints of the service's task template.
	Constraints []string
	// Volumes are the named volumes the service mounts (node-local: a task on another node
	// finds another, empty one), sorted.
	Volumes []string
}

// Converged reports whether every service runs its desired number of tasks and no update is in
// progress, paused or rolled back.
func (s StackState) Converged() bool {
	for _, svc := range s.Services {
		if !svc.converged() {
			return false
		}
	}
	return true
}

func (s ServiceState) converged() bool {
	switch s.UpdateState {
	case "", "completed":
	default:
		return false
	}
	return s.Running == s.Desired && s.Healthy == s.Desired
}

// Observe returns every stack on Swarm (ours and abra's), keyed by name, in at most two API
// calls whatever the number of stacks: one service list and one task list, both filtered on the
// stack namespace label.
func (c *Client) Observe(ctx context.Context) (map[string]StackState, error) {
	f := filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace))
	services, tasks, err := c.listStack(ctx, f)
	if err != nil {
		return nil, err
	}
	return summarise(services, tasks), nil
}

// ObserveStack returns one stack in two API calls; a stack with no service is returned empty,
// not as an error.
func (c *Client) ObserveStack(ctx context.Context, name string) (StackState, error) {
	services, tasks, err := c.listStack(ctx, stackFilter(name))
	if err != nil {
		return StackState{}, err
	}
	st, ok := summarise(services, tasks)[name]
	if !ok {
		return StackState{Name: name}, nil
	}
	return st, nil
}

// stackFilter selects the objects of one stack.
func stackFilter(stack string) filters.Args {
	return filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace+"="+stack))
}

// listStack is the whole of an observation: one service list (with Swarm's task counts) and
// one task list.
func (c *Client) listStack(ctx context.Context, f filters.Args) ([]swarm.Service, []swarm.Task, error) {
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f, Status: true})
	if err != nil {
		return nil, nil, fmt.Errorf("list services: %w", err)
	}
	if len(services) == 0 {
		return nil, nil, nil
	}
	tasks, err := c.docker.TaskList(ctx, swarm.TaskListOptions{Filters: f})
	if err != nil {
		return nil, nil, fmt.Errorf("list tasks: %w", err)
	}
	return services, tasks, nil
}

// maxErrors bounds ServiceState.Errors; Swarm keeps five tasks per slot by default.
const maxErrors = 3

// summarise groups services and tasks by stack. It is pure, so the rules of what counts as
// running, starting and failed are tested without a daemon.
func summarise(services []swarm.Service, tasks []swarm.Task) map[string]StackState {
	byService := map[string][]swarm.Task{}
	for _, t := range tasks {
		byService[t.ServiceID] = append(byService[t.ServiceID], t)
	}
	stacks := map[string]StackState{}
	for _, svc := range services {
		name := svc.Spec.Labels[v1.LabelStackNamespace]
		st := stacks[name]
		st.Name = name
		st.Services = append(st.Services, serviceState(svc, byService[svc.ID]))
		stacks[name] = st
	}
	for name, st := range stacks {
		sort.Slice(st.Services, func(i, j int) bool { return st.Services[i].Name < st.Services[j].Name })
		st.Version = stackLabel(st, v1.VersionLabel(name))
		st.Chaos = stackLabel(st, v1.ChaosLabel(name))
		stacks[name] = st
	}
	return stacks
}

// stackLabel reads a stack-wide label the way abra does: from the service "app" when it exists,
// else from the first service (by name) that carries it.
func stackLabel(st StackState, key string) string {
	for _, svc := range st.Services {
		if svc.Name == st.Name+"_app" {
			if v, ok := svc.Labels[key]; ok {
				return v
			}
		}
	}
	for _, svc := range st.Services {
		if v, ok := svc.Labels[key]; ok {
			return v
		}
	}
	return ""
}

// serviceState counts one service's tasks. Only tasks Swarm wants running count as running or
// starting; failures count tasks created since the service spec last changed, so errors of a
// previous version do not fail a new one.
func serviceState(svc swarm.Service, tasks []swarm.Task) ServiceState {
	s := ServiceState{
		Name:         svc.Spec.Name,
		Labels:       svc.Spec.Labels,
		VersionIndex: svc.Version.Index,
		Desired:      desiredTasks(svc),
	}
	if svc.UpdateStatus != nil {
		s.UpdateState = string(svc.UpdateStatus.State)
		s.UpdateMessage = svc.UpdateStatus.Message
	}
	if p := svc.Spec.TaskTemplate.Placement; p != nil {
		s.Constraints = p.Constraints
	}
	cs := svc.Spec.TaskTemplate.ContainerSpec
	if cs != nil {
		for _, m := range cs.Mounts {
			if m.Type == mount.TypeVolume && m.Source != "" && !slices.Contains(s.Volumes, m.Source) {
				s.Volumes = append(s.Volumes, m.Source)
			}
		}
		slices.Sort(s.Volumes)
	}
	healthchecked := cs != nil && cs.Healthcheck != nil && len(cs.Healthcheck.Test) > 0 && cs.Healthcheck.Test[0] != "NONE"
	job := svc.Spec.Mode.ReplicatedJob != nil || svc.Spec.Mode.GlobalJob != nil
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].Status.Timestamp.After(tasks[j].Status.Timestamp) })
	seen := map[string]bool{}
	template := taskIdentity(svc.Spec.TaskTemplate)
	for _, t := range tasks {
		// Right after an update Swarm may still report the previous update "completed" with
		// the old tasks running; only tasks of the current task template count, so a wait
		// never returns before the new version runs.
		if t.DesiredState == swarm.TaskStateRunning && taskIdentity(t.Spec) == template {
			switch t.Status.State {
			case swarm.TaskStateRunning:
				s.Running++
				s.Healthy++
				if t.NodeID != "" && !slices.Contains(s.Nodes, t.NodeID) {
					s.Nodes = append(s.Nodes, t.NodeID)
				}
			case swarm.TaskStateNew, swarm.TaskStatePending, swarm.TaskStateAssigned, swarm.TaskStateAccepted,
				swarm.TaskStatePreparing, swarm.TaskStateReady, swarm.TaskStateStarting:
				s.Starting++
				if t.Status.State == swarm.TaskStatePending && strings.Contains(t.Status.Err, "no suitable node") &&
					time.Since(t.Status.Timestamp) > unschedulableGrace && s.Unschedulable == "" {
					s.Unschedulable = t.Status.Err
				}
			}
		}
		if !taskEnded(t, job) {
			continue
		}
		if !t.CreatedAt.Before(svc.UpdatedAt) {
			s.Failures++
		}
		if msg := taskError(t, healthchecked); msg != "" && !seen[msg] && len(s.Errors) < maxErrors {
			seen[msg] = true
			s.Errors = append(s.Errors, msg)
		}
	}
	slices.Sort(s.Nodes)
	return s
}

// unschedulableGrace is how long a task may wait for a node before the wait gives up on it:
// long enough for a node that is coming back, or for the scheduler's next pass.
const unschedulableGrace = 10 * time.Second

// desiredTasks prefers Swarm's own count (it knows the eligible nodes of a global service) and
// falls back to the replica count for daemons that do not report it.
func desiredTasks(svc swarm.Service) int {
	if svc.ServiceStatus != nil {
		return int(svc.ServiceStatus.DesiredTasks)
	}
	if svc.Spec.Mode.Replicated != nil && svc.Spec.Mode.Replicated.Replicas != nil {
		return int(*svc.Spec.Mode.Replicated.Replicas)
	}
	return 0
}

// taskEnded reports whether a task ended on its own: it failed, was rejected, or — for a
// long-running (non-job) service — exited 0. Swarm marks the tasks it stops itself "shutdown",
// so "complete" means the container stopped by itself; an unhealthy container that handles
// the SIGTERM Swarm sends exits cleanly and looks like this.
func taskEnded(t swarm.Task, job bool) bool {
	switch t.Status.State {
	case swarm.TaskStateFailed, swarm.TaskStateRejected:
		return true
	case swarm.TaskStateComplete:
		return !job
	}
	return false
}

// taskError describes why a task ended.
func taskError(t swarm.Task, healthchecked bool) string {
	switch {
	case t.Status.Err != "":
		return t.Status.Err
	case t.Status.State == swarm.TaskStateComplete && healthchecked:
		// Swarm stops an unhealthy container with SIGTERM; one that exits cleanly on it ends
		// "complete" with no error, so this is the only trace of the failed healthcheck.
		return "container stopped with exit 0, most likely after failing its healthcheck (unhealthy)"
	case t.Status.State == swarm.TaskStateComplete:
		return "container exited with status 0 although the service should keep running"
	}
	return string(t.Status.State) + ": " + t.Status.Message
}

// taskIdentity is what tells a task of the current task template from an older one. The
// daemon fills defaults (stop grace period, restart policy, runtime) into the service it
// returns but not into its tasks, so the fields compared are those a deploy changes.
func taskIdentity(ts swarm.TaskSpec) string {
	id := struct {
		ForceUpdate uint64
		Networks    []swarm.NetworkAttachmentConfig
		Container   any
	}{ForceUpdate: ts.ForceUpdate, Networks: ts.Networks}
	if cs := ts.ContainerSpec; cs != nil {
		id.Container = []any{cs.Image, cs.Labels, cs.Command, cs.Args, cs.Env, cs.Dir, cs.User, cs.Mounts, cs.Healthcheck, cs.Secrets, cs.Configs}
	}
	data, err := json.Marshal(id)
	if err != nil {
		panic(err) // plain data
	}
	return string(data)
}
