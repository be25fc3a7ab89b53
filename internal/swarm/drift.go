package swarm

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"

	"github.com/docker/cli/cli/compose/convert"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// Drift is a service whose live spec differs from the one a deploy of the stack would send: a
// hand `docker service update`, a scale, another image, or a removed service.
type Drift struct {
	// Service is the stack-scoped service name.
	Service string
	// Fields are the spec paths that differ (TaskTemplate.ContainerSpec.Env,
	// Mode.Replicated.Replicas, ...), or "removed" for a service that is gone.
	Fields []string
}

// String describes the drift for status messages.
func (d Drift) String() string { return fmt.Sprintf("%s: %v", d.Service, d.Fields) }

// Drift compares the live services of s with what Deploy would send for it, writing nothing:
// our bookkeeping labels and what the daemon fills in on create are not drift. An empty list
// means the stack runs as deployed.
func (c *Client) Drift(ctx context.Context, s *Stack, opts DeployOptions) ([]Drift, error) {
	desired, err := c.convertServices(ctx, s, convert.NewNamespace(s.Name), opts)
	if err != nil {
		return nil, err
	}
	existing, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(s.Name)})
	if err != nil {
		return nil, fmt.Errorf("list services of stack %s: %w", s.Name, err)
	}
	names, err := c.allNetworkNames(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]swarm.Service{}
	for _, svc := range existing {
		byName[svc.Spec.Name] = svc
	}
	ignore := ignoredLabels(opts)
	var out []Drift
	for name, d := range desired {
		cur, ok := byName[name]
		if !ok {
			out = append(out, Drift{Service: name, Fields: []string{"removed"}})
			continue
		}
		if fields := specDiff(cur.Spec, d.want, ignore, names); len(fields) > 0 {
			out = append(out, Drift{Service: name, Fields: fields})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

// specDiff lists the paths where the live spec differs from want, compared as specsEqual does.
func specDiff(have, want swarm.ServiceSpec, ignore map[string]bool, networkNames map[string]string) []string {
	a := comparable(withNetworkNames(have, networkNames), want, ignore)
	b := comparable(want, want, ignore)
	var out []string
	diffPaths(a, b, "", &out)
	slices.Sort(out)
	return out
}

// diffPaths records the shallowest paths (at most four levels) where a and b differ.
func diffPaths(a, b any, path string, out *[]string) {
	if reflect.DeepEqual(a, b) {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok || len(splitPath(path)) >= 4 {
		*out = append(*out, path)
		return
	}
	keys := map[string]bool{}
	for k := range am {
		keys[k] = true
	}
	for k := range bm {
		keys[k] = true
	}
	for k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		diffPaths(am[k], bm[k], p, out)
	}
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	n := 1
	for _, r := range p {
		if r == '.' {
			n++
		}
	}
	return make([]string, n)
}

// allNetworkNames maps the ids of swarm networks to their names.
func (c *Client) allNetworkNames(ctx context.Context) (map[string]string, error) {
	nets, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("scope", "swarm"))})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	names := make(map[string]string, len(nets))
	for _, n := range nets {
		names[n.ID] = n.Name
	}
	return names, nil
}
