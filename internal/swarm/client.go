package swarm

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/docker/docker/client"
)

// Client talks to one Docker daemon in swarm mode. It is safe for concurrent use.
type Client struct {
	docker *client.Client
	nodes  *nodeEngines  // nil: containers are on the engine of docker (see SetNodeEndpoints)
	auth   *registryAuth // nil: no registry credentials (see SetDockerConfig)
	// deadlines bound every Engine API call (SetDeadlines); shared with the node clients.
	deadlines *atomic.Pointer[Deadlines]
}

// NewClient returns a Client configured from the environment (DOCKER_HOST and friends) with API
// version negotiation, so a 20.10 daemon (API 1.41) is spoken to in its own version. Extra opts
// are applied after those defaults, e.g. client.WithHTTPClient to count requests in tests.
// Every call has a deadline (Deadlines; the defaults until SetDeadlines).
func NewClient(opts ...client.Opt) (*Client, error) {
	d := &atomic.Pointer[Deadlines]{}
	d.Store(&Deadlines{Read: DefaultReadTimeout, Write: DefaultWriteTimeout})
	all := append([]client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}, opts...)
	c, err := client.NewClientWithOpts(append(all, withDeadlines(d))...)
	if err != nil {
		return nil, fmt.Errorf("create docker client: %w", err)
	}
	return &Client{docker: c, deadlines: d}, nil
}

// Docker returns the underlying Engine API client, for callers in this package's tests and for
// read-only diagnostics; product code outside this package must not import Docker.
func (c *Client) Docker() *client.Client { return c.docker }

// CheckManager reports whether the Engine is an active manager of a swarm, the only place
// stacks can be deployed from; the error says what it is instead and what to do.
func (c *Client) CheckManager(ctx context.Context) error {
	info, err := c.docker.Info(ctx)
	if err != nil {
		return err
	}
	if state := string(info.Swarm.LocalNodeState); state != "active" || !info.Swarm.ControlAvailable {
		return fmt.Errorf("swarm is %q on a node that is a manager: %t (valid: active on a manager; run docker swarm init)", state, info.Swarm.ControlAvailable)
	}
	return nil
}
