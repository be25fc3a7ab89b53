package swarm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// removeWait bounds each wait of a removal: for tasks to stop and for networks and volumes to
// be released by exiting containers.
const removeWait = 2 * time.Minute

// Remove removes the stack: its services, then (once their containers are gone) its networks,
// configs and secrets, and with withVolumes its volumes and the secrets we generated for it.
// Generated secrets go only with the volumes: a database password must not be lost while the
// data it protects is kept. Afterwards nothing labelled with the stack's namespace remains.
func (c *Client) Remove(ctx context.Context, stack string, withVolumes bool) error {
	if err := c.RemoveServices(ctx, stack); err != nil {
		return err
	}
	f := stackFilter(stack)
	var errs []error
	nets, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: f})
	errs = append(errs, wrap(err, "list networks of stack %s", stack))
	for _, n := range nets {
		errs = append(errs, c.retryInUse(ctx, func() error { return c.docker.NetworkRemove(ctx, n.ID) }, "remove network %q", n.Name))
	}
	if len(nets) > 0 {
		errs = append(errs, c.waitNetworksGone(ctx, stack))
	}
	cfgs, err := c.docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	errs = append(errs, wrap(err, "list configs of stack %s", stack))
	for _, cfg := range cfgs {
		errs = append(errs, c.retryInUse(ctx, func() error { return c.docker.ConfigRemove(ctx, cfg.ID) }, "remove config %q", cfg.Spec.Name))
	}
	secretFilters := []filters.Args{f}
	if withVolumes {
		secretFilters = append(secretFilters, filters.NewArgs(filters.Arg("label", v1.LabelSecretOf+"="+stack)))
	}
	for _, sf := range secretFilters {
		secs, err := c.docker.SecretList(ctx, swarm.SecretListOptions{Filters: sf})
		errs = append(errs, wrap(err, "list secrets of stack %s", stack))
		for _, sec := range secs {
			errs = append(errs, c.retryInUse(ctx, func() error { return c.docker.SecretRemove(ctx, sec.ID) }, "remove secret %q", sec.Spec.Name))
		}
	}
	if withVolumes {
		errs = append(errs, c.removeVolumes(ctx, stack))
	}
	return errors.Join(errs...)
}

// RemoveData removes the stack's services and then its volumes, keeping its networks, configs
// and secrets: what an operator does to restore one app from a backup, so that the restored
// data still matches the secrets (a database password) it was written with.
func (c *Client) RemoveData(ctx context.Context, stack string) error {
	if err := c.RemoveServices(ctx, stack); err != nil {
		return err
	}
	return c.removeVolumes(ctx, stack)
}

// removeVolumes removes the stack's volumes on every node's engine: volumes are node-local, and
// each node that ran a task of the stack has its own.
func (c *Client) removeVolumes(ctx context.Context, stack string) error {
	var errs []error
	for _, engine := range c.engines() {
		vols, err := engine.VolumeList(ctx, volume.ListOptions{Filters: stackFilter(stack)})
		if err != nil {
			errs = append(errs, fmt.Errorf("list volumes of stack %s: %w", stack, err))
			continue
		}
		for _, vol := range vols.Volumes {
			errs = append(errs, c.retryInUse(ctx, func() error { return engine.VolumeRemove(ctx, vol.Name, false) }, "remove volume %q", vol.Name))
		}
	}
	return errors.Join(errs...)
}

// RemoveServices removes the stack's services and waits for their containers to be gone,
// keeping volumes, networks, configs and secrets (a WarmCanonical in data mode).
func (c *Client) RemoveServices(ctx context.Context, stack string) error {
	f := stackFilter(stack)
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list services of stack %s: %w", stack, err)
	}
	for _, svc := range services {
		if err := c.docker.ServiceRemove(ctx, svc.ID); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove service %q: %w", svc.Spec.Name, err)
		}
	}
	if err := c.removeStagers(ctx, stack); err != nil {
		return err
	}
	return c.waitContainersGone(ctx, stack)
}

// waitContainersGone waits until no container of the stack exists: only then are its networks
// and volumes free. Containers carry the namespace label the CLI's converter puts on them.
func (c *Client) waitContainersGone(ctx context.Context, stack string) error {
	ctx, cancel := context.WithTimeout(ctx, removeWait)
	defer cancel()
	for {
		// Every node's engine: a task's container lives on the node that ran it.
		var ctrs []container.Summary
		var err error
		for _, engine := range c.engines() {
			var some []container.Summary
			if some, err = engine.ContainerList(ctx, container.ListOptions{All: true, Filters: stackFilter(stack)}); err != nil {
				break
			}
			ctrs = append(ctrs, some...)
		}
		if err == nil && len(ctrs) == 0 {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("list containers of stack %s: %w", stack, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the containers of stack %s to stop: %d left after %s", stack, len(ctrs), removeWait)
		case <-time.After(pollInterval):
		}
	}
}

// waitNetworksGone waits until no network of the stack is listed. Swarm removes an overlay
// network asynchronously: it stays listed for a moment after NetworkRemove returned, and a
// deploy of the same stack in that moment would take it for existing, skip creating it, and
// then fail to create its services with "network … not found".
func (c *Client) waitNetworksGone(ctx context.Context, stack string) error {
	ctx, cancel := context.WithTimeout(ctx, removeWait)
	defer cancel()
	for {
		nets, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: stackFilter(stack)})
		if err == nil && len(nets) == 0 {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("list networks of stack %s: %w", stack, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the networks of stack %s to go: %d left after %s", stack, len(nets), removeWait)
		case <-time.After(pollInterval):
		}
	}
}

// retryInUse runs remove until it succeeds, the object is gone, or removeWait passes: a volume
// or network stays in use for a few seconds while the last containers exit.
func (c *Client) retryInUse(ctx context.Context, remove func() error, format string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, removeWait)
	defer cancel()
	for {
		err := remove()
		// A 20.10 daemon answers 500 "network ... not found" for a network whose removal (by
		// another client, or a moment ago) is still in progress: it is gone all the same.
		if err == nil || errdefs.IsNotFound(err) || strings.Contains(err.Error(), " not found") {
			return nil
		}
		if !errdefs.IsConflict(err) && !isInUse(err) {
			return fmt.Errorf(format+": %w", append(args, err)...)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf(format+": still in use after %s: %w", append(args, removeWait, err)...)
		case <-time.After(pollInterval):
		}
	}
}

// isInUse recognises the daemon's "in use" and "active endpoints" answers, which older daemons
// do not always send as 409.
func isInUse(err error) bool {
	s := err.Error()
	return containsAny(s, "in use", "active endpoints", "is being used")
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// PruneSecrets removes the secrets the controller generated or inserted for stack (labelled
// LabelSecretOf) that no service of the stack uses any more: the versions a bump of
// SECRET_<NAME>_VERSION replaced. Call it once the stack converged on the new versions; a
// rollback target's secrets are the ones its services use, so they stay. Secrets made by hand
// or by abra carry no such label and are never touched. It returns the names removed.
func (c *Client) PruneSecrets(ctx context.Context, stack string) ([]string, error) {
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("list services of stack %s: %w", stack, err)
	}
	if len(services) == 0 {
		// Nothing runs: nothing tells the versions in use from the old ones.
		return nil, nil
	}
	used := map[string]bool{}
	for _, s := range services {
		if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
			for _, ref := range cs.Secrets {
				used[ref.SecretID] = true
			}
		}
	}
	secs, err := c.docker.SecretList(ctx, swarm.SecretListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelSecretOf+"="+stack))})
	if err != nil {
		return nil, fmt.Errorf("list secrets of stack %s: %w", stack, err)
	}
	var removed []string
	var errs []error
	for _, sec := range secs {
		if used[sec.ID] {
			continue
		}
		if err := c.docker.SecretRemove(ctx, sec.ID); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove secret %q: %w", sec.Spec.Name, err))
			continue
		}
		removed = append(removed, sec.Spec.Name)
	}
	slices.Sort(removed)
	return removed, errors.Join(errs...)
}

// StackNetworks returns the Swarm names of the networks the services of stack are attached
// to, sorted, in two calls whatever the number of services.
func (c *Client) StackNetworks(ctx context.Context, stack string) ([]string, error) {
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return nil, fmt.Errorf("list services of stack %s: %w", stack, err)
	}
	nets, err := c.docker.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	names := map[string]string{}
	for _, n := range nets {
		names[n.ID], names[n.Name] = n.Name, n.Name
	}
	var out []string
	for _, s := range services {
		for _, a := range s.Spec.TaskTemplate.Networks {
			if n := names[a.Target]; n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
