package swarm

import (
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
