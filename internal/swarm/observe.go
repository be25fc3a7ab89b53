package swarm

import "context"

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
// calls whatever the number of stacks.
func (c *Client) Observe(ctx context.Context) (map[string]StackState, error) {
	return nil, errNotImplemented
}

// ObserveStack returns one stack; a stack with no service is returned empty, not as an error.
func (c *Client) ObserveStack(ctx context.Context, name string) (StackState, error) {
	return StackState{}, errNotImplemented
}
