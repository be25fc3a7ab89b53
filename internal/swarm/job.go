package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Job is a one-shot command run as a Swarm task: a service of one replica whose restart
// condition is none, so it runs once and its container stays until the service goes.
type Job struct {
	// Stack is the stack the job belongs to: it joins the networks the stack's services use and
	// carries the stack's namespace label, so removing the stack removes whatever of the job a
	// crash left. Required.
	Stack string
	// Name names the job's service (Stack_Name) and volumes. Required.
	Name string
	// Image is the image to run, local or in a registry, as written. Required.
	Image string
	// Command is the program and its arguments; it replaces the image's entrypoint. Required.
	Command []string
	// Env is added to the image's environment. Optional.
	Env map[string]string
	// Files is a tar stream extracted at FilesDir before the task starts; the task sees
	// FilesDir read-only. Required.
	Files io.Reader
	// FilesDir is where Files appear in the container, such as /recipe. Required.
	FilesDir string
	// OutputDir is a directory of the container that any user may write (mode 1777), such as
	// /artifacts. Required.
	OutputDir string
	// Output receives a tar stream of OutputDir after the task ended, its entries under the
	// directory's base name. Optional.
	Output func(io.Reader) error
	// Log receives the task's stdout and stderr once it ended, and notes on the job's clean-up.
	// Optional.
	Log io.Writer
	// Role, RunID and Labels label every object of the job, as DeployOptions' do. Optional.
	Role, RunID string
	Labels      map[string]string
	// Placement is added to the task's placement. Optional.
	Placement Placement
}

// JobResult is how a job's task ended.
type JobResult struct {
	// State is the task's final state: complete, failed, rejected, shutdown, orphaned or remove.
	State string
	// ExitCode is the command's exit status (zero when the container never ran).
	ExitCode int
	// Message is Swarm's word on the task, such as "task: non-zero exit (1)" or "No such image".
	Message string
	// Node is the hostname of the node that ran the task.
	Node string
}

// jobStates are the task states a job's task does not leave.
var jobStates = []swarm.TaskState{swarm.TaskStateComplete, swarm.TaskStateFailed, swarm.TaskStateRejected,
	swarm.TaskStateShutdown, swarm.TaskStateOrphaned, swarm.TaskStateRemove}

// RunJob runs j on one node that satisfies its placement and waits until its task ended or
// ctx ends. Files go into a volume on that node before the task starts (through a container
// that never runs, since a service's container cannot be written before it starts), and the
// task mounts that volume read-only; OutputDir is a second volume. Afterwards the task's
// output goes to j.Log, OutputDir to j.Output, and the service, its container and both
// volumes are removed, on a context of their own so a timed-out job is cleaned up too. A
// command's non-zero exit is a JobResult, not an error.
func (c *Client) RunJob(ctx context.Context, j Job) (JobResult, error) {
	name := j.Stack + "_" + j.Name
	nodeID, host, err := c.jobNode(ctx, name, j.Placement.Constraints)
	if err != nil {
		return JobResult{}, err
	}
	engine, _, err := c.engineFor(ctx, nodeID)
	if err != nil {
		return JobResult{}, fmt.Errorf("job %s: %w", name, err)
	}
	labels := withLabels(bookkeepingLabels(DeployOptions{Role: j.Role, RunID: j.RunID, Labels: j.Labels}),
		map[string]string{v1.LabelStackNamespace: j.Stack})
	st := staging{engine: engine, name: name, files: name + "_files", output: name + "_output", labels: labels}
	defer func() {
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeWait)
		defer cancel()
		if err := c.removeJob(cleanupCtx, st); err != nil && j.Log != nil {
			// The stack's teardown removes what is left: everything carries its namespace.
			fmt.Fprintf(j.Log, "clean-up of job %s: %v\n", name, err)
		}
	}()
	auth, err := c.imageAuth(j.Image)
	if err != nil {
		return JobResult{}, err
	}
	if err := c.stage(ctx, st, j, auth); err != nil {
		return JobResult{}, fmt.Errorf("job %s: %w", name, err)
	}
	networks, err := c.StackNetworks(ctx, j.Stack)
	if err != nil {
		return JobResult{}, err
	}
	spec := jobSpec(j, st, nodeID, networks)
	if _, err := c.docker.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: auth}); err != nil {
		return JobResult{}, fmt.Errorf("create service %q: %w", name, err)
	}
	task, err := c.waitJob(ctx, name)
	if err != nil {
		return JobResult{}, err
	}
	res := JobResult{State: string(task.Status.State), Message: task.Status.Err, Node: host}
	if task.Status.Err == "" {
		res.Message = task.Status.Message
	}
	cs := task.Status.ContainerStatus
	if cs == nil || cs.ContainerID == "" {
		return res, nil
	}
	res.ExitCode = cs.ExitCode
	return res, c.collect(ctx, st, j, cs.ContainerID)
}

// jobSpec is the service of a job: one replica, never restarted, pinned to the node its
// volumes are on, reached (if at all) by DNS round robin, since a kernel without IPVS cannot
// give it a virtual IP.
func jobSpec(j Job, st staging, nodeID string, networks []string) swarm.ServiceSpec {
	env := make([]string, 0, len(j.Env))
	for _, k := range slices.Sorted(maps.Keys(j.Env)) {
		env = append(env, k+"="+j.Env[k])
	}
	one := uint64(1)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: st.name, Labels: st.labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image: j.Image, Command: j.Command, Env: env, Labels: st.labels,
				Mounts: []mount.Mount{
					{Type: mount.TypeVolume, Source: st.files, Target: j.FilesDir, ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
					{Type: mount.TypeVolume, Source: st.output, Target: j.OutputDir, VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
				},
			},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
			Placement:     &swarm.Placement{Constraints: []string{"node.id==" + nodeID}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	j.Placement.apply(&spec)
	for _, n := range networks {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n})
	}
	return spec
}

// waitJob waits until the job's task is in a state it does not leave, and returns it.
func (c *Client) waitJob(ctx context.Context, service string) (swarm.Task, error) {
	f := filters.NewArgs(filters.Arg("service", service))
	for {
		tasks, err := c.docker.TaskList(ctx, swarm.TaskListOptions{Filters: f})
		if err != nil && ctx.Err() == nil {
			return swarm.Task{}, fmt.Errorf("list tasks of %s: %w", service, err)
		}
		for _, t := range tasks {
			if slices.Contains(jobStates, t.Status.State) {
				return t, nil
			}
		}
		select {
		case <-ctx.Done():
			return swarm.Task{}, fmt.Errorf("wait for job %s to end: %w", service, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// collect copies the ended task's output to j.Log and its OutputDir to j.Output.
func (c *Client) collect(ctx context.Context, st staging, j Job, containerID string) error {
	if j.Log != nil {
		logs, err := st.engine.ContainerLogs(ctx, containerID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			return fmt.Errorf("logs of job %s: %w", st.name, err)
		}
		_, err = stdcopy.StdCopy(j.Log, j.Log, logs)
		logs.Close()
		if err != nil {
			return fmt.Errorf("logs of job %s: %w", st.name, err)
		}
	}
	if j.Output == nil {
		return nil
	}
	// A stopped container's volumes can still be read through the archive endpoint.
	rc, _, err := st.engine.CopyFromContainer(ctx, containerID, j.OutputDir)
	if err != nil {
		return fmt.Errorf("copy %s from job %s: %w", j.OutputDir, st.name, err)
	}
	defer rc.Close()
	if err := j.Output(rc); err != nil {
		return fmt.Errorf("output of job %s: %w", st.name, err)
	}
	return nil
}

// removeJob removes the job's service, waits for its container to go, then removes the
// staging container and the volumes.
func (c *Client) removeJob(ctx context.Context, st staging) error {
	var errs []error
	if err := c.docker.ServiceRemove(ctx, st.name); err != nil && !errdefs.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("remove service %q: %w", st.name, err))
	}
	errs = append(errs, st.removeStager(ctx))
	f := filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+st.name))
	for {
		ctrs, err := st.engine.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err == nil && len(ctrs) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(append(errs, fmt.Errorf("wait for the container of job %s to go: %w", st.name, ctx.Err()))...)
		case <-time.After(pollInterval):
		}
	}
	for _, v := range []string{st.files, st.output} {
		errs = append(errs, c.retryInUse(ctx, func() error { return st.engine.VolumeRemove(ctx, v, false) }, "remove volume %q", v))
	}
	return errors.Join(errs...)
}
