package swarm

import "context"

// Remove removes the stack: its services, then (once their tasks are gone) its networks,
// configs and secrets, and with withVolumes its volumes. Afterwards nothing labelled with the
// stack's namespace remains.
func (c *Client) Remove(ctx context.Context, stack string, withVolumes bool) error {
	return errNotImplemented
}

// RemoveServices removes the stack's services and waits for their tasks to stop, keeping
// volumes, networks, configs and secrets (a WarmCanonical in data mode).
func (c *Client) RemoveServices(ctx context.Context, stack string) error {
	return errNotImplemented
}

// StacksWithLabel returns the names of stacks with a service, network, secret, config or volume
// labelled key=value, for garbage collection.
func (c *Client) StacksWithLabel(ctx context.Context, key, value string) ([]string, error) {
	return nil, errNotImplemented
}
