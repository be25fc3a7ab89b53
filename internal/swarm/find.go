package swarm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// StacksWithLabel returns the names of stacks with a service, network, config, secret or volume
// labelled key=value (value "" matches any value), sorted, for garbage collection.
func (c *Client) StacksWithLabel(ctx context.Context, key, value string) ([]string, error) {
	sel := key
	if value != "" {
		sel = key + "=" + value
	}
	f := filters.NewArgs(filters.Arg("label", sel))
	names := map[string]bool{}
	add := func(labels map[string]string) {
		if ns := labels[v1.LabelStackNamespace]; ns != "" {
			names[ns] = true
		} else if ns := labels[v1.LabelSecretOf]; ns != "" {
			names[ns] = true
		}
	}
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list services labelled %s: %w", sel, err)
	}
	for _, s := range services {
		add(s.Spec.Labels)
	}
	nets, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list networks labelled %s: %w", sel, err)
	}
	for _, n := range nets {
		add(n.Labels)
	}
	cfgs, err := c.docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list configs labelled %s: %w", sel, err)
	}
	for _, cfg := range cfgs {
		add(cfg.Spec.Labels)
	}
	secs, err := c.docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list secrets labelled %s: %w", sel, err)
	}
	for _, sec := range secs {
		add(sec.Spec.Labels)
	}
	vols, err := c.docker.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list volumes labelled %s: %w", sel, err)
	}
	for _, v := range vols.Volumes {
		add(v.Labels)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// RunStacks lists the test runs that have objects on Swarm carrying the run label and every
// label of labels (services, networks, configs, secrets, and volumes on every node's engine),
// with the stacks of each: a stack whose services are gone but whose volumes are left is
// found too.
func (c *Client) RunStacks(ctx context.Context, labels map[string]string) (map[string][]string, error) {
	f := filters.NewArgs(filters.Arg("label", v1.LabelRun))
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	runs := map[string]map[string]bool{}
	add := func(l map[string]string) {
		ns := l[v1.LabelStackNamespace]
		if ns == "" {
			ns = l[v1.LabelSecretOf]
		}
		run := l[v1.LabelRun]
		if run == "" || ns == "" {
			return
		}
		if runs[run] == nil {
			runs[run] = map[string]bool{}
		}
		runs[run][ns] = true
	}
	var errs []error
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	errs = append(errs, wrap(err, "list run services"))
	for _, s := range services {
		add(s.Spec.Labels)
	}
	nets, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: f})
	errs = append(errs, wrap(err, "list run networks"))
	for _, n := range nets {
		add(n.Labels)
	}
	cfgs, err := c.docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	errs = append(errs, wrap(err, "list run configs"))
	for _, cfg := range cfgs {
		add(cfg.Spec.Labels)
	}
	secs, err := c.docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	errs = append(errs, wrap(err, "list run secrets"))
	for _, sec := range secs {
		add(sec.Spec.Labels)
	}
	for _, engine := range c.engines() {
		vols, err := engine.VolumeList(ctx, volume.ListOptions{Filters: f})
		errs = append(errs, wrap(err, "list run volumes"))
		for _, v := range vols.Volumes {
			add(v.Labels)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(runs))
	for run, stacks := range runs {
		out[run] = sortedKeys(stacks)
	}
	return out, nil
}

// RunOwner returns the owner label (v1.LabelOwner) of a test run's objects on Swarm, and false
// when no service, network or volume of the run is there.
func (c *Client) RunOwner(ctx context.Context, run string) (string, bool, error) {
	f := filters.NewArgs(filters.Arg("label", v1.LabelRun+"="+run))
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return "", false, fmt.Errorf("list services of run %s: %w", run, err)
	}
	for _, s := range services {
		return s.Spec.Labels[v1.LabelOwner], true, nil
	}
	nets, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return "", false, fmt.Errorf("list networks of run %s: %w", run, err)
	}
	for _, n := range nets {
		return n.Labels[v1.LabelOwner], true, nil
	}
	vols, err := c.docker.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return "", false, fmt.Errorf("list volumes of run %s: %w", run, err)
	}
	for _, v := range vols.Volumes {
		return v.Labels[v1.LabelOwner], true, nil
	}
	return "", false, nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
