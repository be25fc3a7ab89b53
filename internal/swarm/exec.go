package swarm

import (
	"context"
	"io"
)

// ExecResult is the outcome of a command run in a container.
type ExecResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// Exec runs cmd in a running container of the stack's service (the compose name, e.g. "app"),
// waiting a bounded time for one to be running. A non-zero exit is reported in ExitCode, not as
// an error.
func (c *Client) Exec(ctx context.Context, stack, service string, cmd []string) (ExecResult, error) {
	return ExecResult{}, errNotImplemented
}

// CopyFrom returns a tar stream of path in a running container of the stack's service. The
// caller closes it.
func (c *Client) CopyFrom(ctx context.Context, stack, service, path string) (io.ReadCloser, error) {
	return nil, errNotImplemented
}

// CopyTo extracts the tar stream into dstDir of a running container of the stack's service.
func (c *Client) CopyTo(ctx context.Context, stack, service, dstDir string, tar io.Reader) error {
	return errNotImplemented
}
