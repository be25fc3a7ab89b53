package swarm

import (
	"context"
	"time"
)

// WaitConverged waits until the stack is converged (see StackState.Converged). It fails early,
// naming the service and the task error, when a task cannot succeed: the image does not exist,
// tasks fail repeatedly (non-zero exit, unhealthy after retries), or the update paused or rolled
// back. It fails at timeout otherwise.
func (c *Client) WaitConverged(ctx context.Context, stack string, timeout time.Duration) error {
	return errNotImplemented
}
