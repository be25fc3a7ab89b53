package swarm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// containerWait bounds how long Exec, CopyFrom and CopyTo wait for a running container.
const containerWait = 2 * time.Minute

// ExecResult is the outcome of a command run in a container.
type ExecResult struct {
	// Stdout and Stderr are the command's output streams.
	Stdout, Stderr string
	// ExitCode is the command's exit status.
	ExitCode int
}

// Exec runs cmd in a running container of the stack's service (the compose name, e.g. "app"),
// waiting up to two minutes for one to be running, with env ("KEY=value") added to the
// container's environment. A non-zero exit is reported in ExitCode, not as an error.
func (c *Client) Exec(ctx context.Context, stack, service string, cmd []string, env ...string) (ExecResult, error) {
	var res ExecResult
	err := c.withContainer(ctx, stack, service, func(engine *client.Client, id string) error {
		exec, err := engine.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true})
		if err != nil {
			return err
		}
		attach, err := engine.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{})
		if err != nil {
			return err
		}
		defer attach.Close()
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, attach.Reader); err != nil {
			return fmt.Errorf("read output: %w", err)
		}
		inspect, err := engine.ContainerExecInspect(ctx, exec.ID)
		if err != nil {
			return err
		}
		res = ExecResult{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: inspect.ExitCode}
		return nil
	})
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %q in %s_%s: %w", strings.Join(cmd, " "), stack, service, err)
	}
	return res, nil
}

// CopyFrom returns a tar stream of path in a running container of the stack's service. The
// caller closes it.
func (c *Client) CopyFrom(ctx context.Context, stack, service, path string) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := c.withContainer(ctx, stack, service, func(engine *client.Client, id string) error {
		var err error
		rc, _, err = engine.CopyFromContainer(ctx, id, path)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s from %s_%s: %w", path, stack, service, err)
	}
	return rc, nil
}

// HasFile reports whether path exists in a running container of the stack's service. It needs
// nothing in the image (a scratch image has no test or sh): the Engine stats the path itself.
func (c *Client) HasFile(ctx context.Context, stack, service, path string) (bool, error) {
	found := false
	err := c.withContainer(ctx, stack, service, func(engine *client.Client, id string) error {
		_, err := engine.ContainerStatPath(ctx, id, path)
		if errdefs.IsNotFound(err) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("stat %s in %s_%s: %w", path, stack, service, err)
	}
	return found, nil
}

// CopyTo extracts the tar stream into dstDir of a running container of the stack's service.
// The stream is read once, so a container that stops midway is an error, not a retry.
func (c *Client) CopyTo(ctx context.Context, stack, service, dstDir string, tar io.Reader) error {
	engine, id, err := c.runningContainer(ctx, stack, service)
	if err == nil {
		err = engine.CopyToContainer(ctx, id, dstDir, tar, container.CopyToContainerOptions{})
	}
	if err != nil {
		return fmt.Errorf("copy to %s in %s_%s: %w", dstDir, stack, service, err)
	}
	return nil
}

// withContainer runs fn against a running container of the service, retrying while the
// container is starting or restarting: the Engine answers 409 Conflict then.
func (c *Client) withContainer(ctx context.Context, stack, service string, fn func(engine *client.Client, id string) error) error {
	ctx, cancel := context.WithTimeout(ctx, containerWait)
	defer cancel()
	for {
		engine, id, err := c.runningContainer(ctx, stack, service)
		if err != nil {
			return err
		}
		err = fn(engine, id)
		if err == nil || !errdefs.IsConflict(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %s not ready: %w", id[:12], err)
		case <-time.After(pollInterval):
		}
	}
}

// runningContainer waits for a task of the service that Swarm reports running and returns the
// engine of the node that runs it (see SetNodeEndpoints) and its container id.
func (c *Client) runningContainer(ctx context.Context, stack, service string) (*client.Client, string, error) {
	ctx, cancel := context.WithTimeout(ctx, containerWait)
	defer cancel()
	name := stack + "_" + service
	f := filters.NewArgs(filters.Arg("service", name), filters.Arg("desired-state", "running"))
	for {
		tasks, err := c.docker.TaskList(ctx, swarm.TaskListOptions{Filters: f})
		if err != nil && ctx.Err() == nil {
			return nil, "", fmt.Errorf("list tasks of %s: %w", name, err)
		}
		for _, t := range tasks {
			if t.Status.State == swarm.TaskStateRunning && t.Status.ContainerStatus != nil && t.Status.ContainerStatus.ContainerID != "" {
				engine, _, err := c.engineFor(ctx, t.NodeID)
				if err != nil {
					return nil, "", fmt.Errorf("service %s: %w", name, err)
				}
				return engine, t.Status.ContainerStatus.ContainerID, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, "", fmt.Errorf("no running task of service %s after %s", name, containerWait)
		case <-time.After(pollInterval):
		}
	}
}
