package swarm

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// NodeEndpointsFlag names the flag that gives the Engine endpoints of the nodes, for errors.
const NodeEndpointsFlag = "--node-endpoint NODE=URL (or CCCI_NODE_ENDPOINTS)"

// ParseNodeEndpoints reads "NODE=URL" entries (the repeatable --node-endpoint, or the
// comma-separated CCCI_NODE_ENDPOINTS) into hostname → URL. NODE is the hostname `docker node
// ls` shows; URL is unix://, tcp:// (TLS as DOCKER_CERT_PATH and DOCKER_TLS_VERIFY say) or
// ssh:// (docker/cli's connection helper, the way abra reaches servers).
func ParseNodeEndpoints(entries []string) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range entries {
		for _, one := range strings.Split(e, ",") {
			one = strings.TrimSpace(one)
			if one == "" {
				continue
			}
			node, raw, ok := strings.Cut(one, "=")
			if !ok || node == "" || raw == "" {
				return nil, fmt.Errorf("node endpoint %q: want NODE=URL, e.g. mn2=unix:///run/mn2.sock", one)
			}
			u, err := url.Parse(raw)
			if err != nil || !slices.Contains([]string{"unix", "tcp", "ssh"}, u.Scheme) {
				return nil, fmt.Errorf("node endpoint %q: URL %q is not unix://, tcp:// or ssh://", one, raw)
			}
			if prev, dup := out[node]; dup && prev != raw {
				return nil, fmt.Errorf("node endpoint %q: node %s already has endpoint %s", one, node, prev)
			}
			out[node] = raw
		}
	}
	return out, nil
}

// nodeEngines holds the Engine clients of the swarm's nodes, by hostname, and the hostnames of
// node ids as the manager reports them.
type nodeEngines struct {
	clients map[string]*client.Client
	mu      sync.Mutex
	names   map[string]string // node id → hostname
	self    string            // node id of the engine c.docker talks to
}

// SetNodeEndpoints makes exec, copy and file checks reach the container of a task on the node
// that runs it, through that node's endpoint. Without endpoints every container is looked for
// on the engine DOCKER_HOST names (a single-node swarm).
func (c *Client) SetNodeEndpoints(endpoints map[string]string) error {
	if len(endpoints) == 0 {
		c.nodes = nil
		return nil
	}
	n := &nodeEngines{clients: map[string]*client.Client{}, names: map[string]string{}}
	for node, raw := range endpoints {
		opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
		if strings.HasPrefix(raw, "ssh://") {
			helper, err := connhelper.GetConnectionHelper(raw)
			if err != nil {
				return fmt.Errorf("node endpoint %s=%s: %w", node, raw, err)
			}
			opts = append(opts, client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
		} else {
			opts = append(opts, client.WithHost(raw))
		}
		cl, err := client.NewClientWithOpts(append(opts, withDeadlines(c.deadlines))...)
		if err != nil {
			return fmt.Errorf("node endpoint %s=%s: %w", node, raw, err)
		}
		n.clients[node] = cl
	}
	c.nodes = n
	return nil
}

// engineFor returns the client of the engine that runs node's containers.
func (c *Client) engineFor(ctx context.Context, nodeID string) (*client.Client, string, error) {
	if c.nodes == nil {
		return c.docker, "", nil
	}
	n := c.nodes
	n.mu.Lock()
	host, known := n.names[nodeID]
	self := n.self
	n.mu.Unlock()
	if !known {
		node, _, err := c.docker.NodeInspectWithRaw(ctx, nodeID)
		if err != nil {
			return nil, "", fmt.Errorf("inspect node %s: %w", nodeID, err)
		}
		host = node.Description.Hostname
		if self == "" {
			if info, err := c.docker.Info(ctx); err == nil {
				self = info.Swarm.NodeID
			}
		}
		n.mu.Lock()
		n.names[nodeID], n.self = host, self
		n.mu.Unlock()
	}
	if cl, ok := n.clients[host]; ok {
		return cl, host, nil
	}
	if nodeID == self {
		return c.docker, host, nil
	}
	return nil, host, fmt.Errorf("the task runs on node %s, which has no Engine endpoint: give %s=URL with %s", host, host, NodeEndpointsFlag)
}

// engines returns the client of every known engine: DOCKER_HOST's and each node's.
func (c *Client) engines() []*client.Client {
	out := []*client.Client{c.docker}
	if c.nodes != nil {
		for _, cl := range c.nodes.clients {
			out = append(out, cl)
		}
	}
	return out
}

// Node is one swarm node as the controller names it in messages.
type Node struct {
	// Hostname is the node's name as docker node ls shows it.
	Hostname string
	// Availability is active, pause or drain; State is ready, down, unknown or disconnected.
	Availability, State string
	// Role is manager or worker; OS and Arch the platform; Labels the node's labels (docker
	// node update --label-add) and EngineLabels the engine's: what placement constraints read.
	Role, OS, Arch       string
	Labels, EngineLabels map[string]string
	// CPUs is how many CPUs the node has.
	CPUs float64
}

// Usable reports whether Swarm may schedule a task on the node.
func (n Node) Usable() bool {
	return n.Availability == string(swarm.NodeAvailabilityActive) && n.State == string(swarm.NodeStateReady)
}

// Why says, for a node that is not usable, what it is: "drained", "down", "paused".
func (n Node) Why() string {
	switch {
	case n.State != string(swarm.NodeStateReady):
		return n.State
	case n.Availability == string(swarm.NodeAvailabilityDrain):
		return "drained"
	case n.Availability == string(swarm.NodeAvailabilityPause):
		return "paused"
	}
	return n.Availability
}

// Nodes returns every node by id, in one call.
func (c *Client) Nodes(ctx context.Context) (map[string]Node, error) {
	nodes, err := c.docker.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	out := make(map[string]Node, len(nodes))
	for _, n := range nodes {
		out[n.ID] = Node{Hostname: n.Description.Hostname, Availability: string(n.Spec.Availability), State: string(n.Status.State),
			Role: string(n.Spec.Role), OS: n.Description.Platform.OS, Arch: n.Description.Platform.Architecture,
			Labels: n.Spec.Labels, EngineLabels: n.Description.Engine.Labels, CPUs: float64(n.Description.Resources.NanoCPUs) / 1e9}
	}
	return out, nil
}
