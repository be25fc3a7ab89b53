package swarm

import (
	"errors"
	"io"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/client"
)

// IsEngineFailure reports whether err is a failure of the Docker engine rather than of the
// stack it worked on: a daemon that is down or restarting (the client cannot connect), a node
// that is not or no longer a manager, a swarm without a leader (the Engine answers 503), a
// connection cut midway, a node that ran a task going Down or drained, or no node able to run
// a task at all (UnschedulableError), or an engine that does not answer within its deadline
// (EngineTimeoutError: a hung daemon), or tasks its node could not attach to their network
// (NetworkSetupError). A run that meets one is Aborted, never a red verdict for the recipe;
// a promotion that meets one is resumed once the engine is back, not marked failed. Only the
// error's types are read, never its text: a hook's stderr saying "connection refused" is the
// recipe's failure.
func IsEngineFailure(err error) bool {
	if err == nil {
		return false
	}
	var down *NodeDownError
	var unschedulable *UnschedulableError
	var timeout *EngineTimeoutError
	var netSetup *NetworkSetupError
	return errors.As(err, &down) || errors.As(err, &unschedulable) || errors.As(err, &timeout) || errors.As(err, &netSetup) ||
		client.IsErrConnectionFailed(err) || errdefs.IsUnavailable(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
