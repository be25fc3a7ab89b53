package swarm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"

	"github.com/containerd/errdefs"
	"github.com/docker/cli/cli/compose/convert"
	composetypes "github.com/docker/cli/cli/compose/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/secrets"
)

// objectPlan lists the networks, configs and secrets a deploy must create before it touches a
// service. It is built from reads only, so every refusal happens before the first write.
type objectPlan struct {
	networks         map[string]network.CreateOptions // stack networks to create, by name
	externalNetworks []string                         // missing external networks to create
	configs          []swarm.ConfigSpec               // configs to create
	secrets          []swarm.SecretSpec               // file-based secrets to create
	secretUpdates    []secretUpdate                   // file-based secrets whose labels changed
	generate         []generatedSecret                // missing external secrets to generate
}

type secretUpdate struct {
	existing swarm.Secret
	spec     swarm.SecretSpec
}

type generatedSecret struct {
	key, name string
	length    int
	charset   string
	value     []byte // an operator-provided value; nil: generated
}

// writes reports whether executing the plan writes anything.
func (p objectPlan) writes() bool {
	return len(p.networks)+len(p.externalNetworks)+len(p.configs)+len(p.secrets)+len(p.secretUpdates)+len(p.generate) > 0
}

// planObjects reads what exists and decides what to create. Like `docker stack deploy` it
// checks external networks and converts with the CLI's own functions; unlike it, it never
// rewrites an existing config or secret, which Swarm would refuse for content and which would be
// a write for nothing otherwise.
func (c *Client) planObjects(ctx context.Context, s *Stack, ns convert.Namespace, opts DeployOptions) (objectPlan, error) {
	var p objectPlan
	var err error
	if p.networks, p.externalNetworks, err = c.planNetworks(ctx, s, ns, opts); err != nil {
		return p, err
	}
	if p.configs, err = c.planConfigs(ctx, s, ns); err != nil {
		return p, err
	}
	if p.secrets, p.secretUpdates, p.generate, err = c.planSecrets(ctx, s, ns, opts); err != nil {
		return p, err
	}
	return p, nil
}

// declaredNetworks is the set of networks the services use; a service without networks uses
// "default", as in the CLI.
func declaredNetworks(services []composetypes.ServiceConfig) map[string]struct{} {
	set := map[string]struct{}{}
	for _, svc := range services {
		if len(svc.Networks) == 0 {
			set["default"] = struct{}{}
		}
		for n := range svc.Networks {
			set[n] = struct{}{}
		}
	}
	return set
}

func (c *Client) planNetworks(ctx context.Context, s *Stack, ns convert.Namespace, opts DeployOptions) (map[string]network.CreateOptions, []string, error) {
	nets, externals := convert.Networks(ns, s.Config.Networks, declaredNetworks(s.Config.Services))
	var missing []string
	for _, name := range externals {
		if !container.NetworkMode(name).IsUserDefined() {
			continue // host, bridge, none exist on every node
		}
		nw, err := c.docker.NetworkInspect(ctx, name, network.InspectOptions{})
		switch {
		case errdefs.IsNotFound(err):
			if !opts.CreateMissingNetworks {
				return nil, nil, fmt.Errorf("stack %s: external network %q does not exist; create it (docker network create -d overlay --attachable %s) or allow creating missing networks", s.Name, name, name)
			}
			missing = append(missing, name)
		case err != nil:
			return nil, nil, fmt.Errorf("inspect network %q: %w", name, err)
		case nw.Scope != "swarm":
			return nil, nil, fmt.Errorf("stack %s: external network %q has scope %q, a stack needs a swarm-scoped (overlay) network", s.Name, name, nw.Scope)
		}
	}
	if len(nets) == 0 {
		return nil, missing, nil
	}
	existing, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: stackFilter(s.Name)})
	if err != nil {
		return nil, nil, fmt.Errorf("list networks of stack %s: %w", s.Name, err)
	}
	for _, nw := range existing {
		delete(nets, nw.Name)
	}
	for name, o := range nets {
		if o.Driver == "" {
			o.Driver = "overlay"
		}
		o.Labels = withLabels(o.Labels, bookkeepingLabels(opts))
		nets[name] = o
	}
	return nets, missing, nil
}

// planConfigs returns the configs to create and refuses a config whose content changed under an
// unchanged name, naming the variable that versions it.
func (c *Client) planConfigs(ctx context.Context, s *Stack, ns convert.Namespace) ([]swarm.ConfigSpec, error) {
	specs, err := convert.Configs(ns, s.Config.Configs)
	if err != nil {
		return nil, fmt.Errorf("stack %s: read config file: %w", s.Name, err)
	}
	if len(specs) == 0 {
		return nil, nil
	}
	f := filters.NewArgs()
	for _, spec := range specs {
		f.Add("name", spec.Name)
	}
	existing, err := c.docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list configs of stack %s: %w", s.Name, err)
	}
	byName := map[string]swarm.Config{}
	for _, cfg := range existing {
		byName[cfg.Spec.Name] = cfg
	}
	keys := composeKeys(ns, s.Config.Configs)
	var create []swarm.ConfigSpec
	var conflicts []error
	for _, spec := range specs {
		cur, ok := byName[spec.Name]
		switch {
		case !ok:
			create = append(create, spec)
		case !bytes.Equal(cur.Spec.Data, spec.Data):
			conflicts = append(conflicts, immutableError(s, "config", keys[spec.Name], spec.Name))
		}
	}
	sort.Slice(create, func(i, j int) bool { return create[i].Name < create[j].Name })
	return create, errors.Join(conflicts...)
}

// composeKeys maps the Swarm name of each config or secret to its compose key.
func composeKeys[T composetypes.ConfigObjConfig | composetypes.SecretConfig](ns convert.Namespace, objs map[string]T) map[string]string {
	out := map[string]string{}
	for key, obj := range objs {
		name := composetypes.FileObjectConfig(obj).Name
		if name == "" {
			name = ns.Scope(key)
		}
		out[name] = key
	}
	return out
}

// immutableError explains that Swarm cannot change a config or secret in place and which
// variable gives it a new name.
func immutableError(s *Stack, kind, key, name string) error {
	tmpl := s.nameTemplates[kind][key]
	if v := versionVariable(tmpl); v != "" {
		return fmt.Errorf("stack %s: %s %q (%s) changed but its name %q did not; Swarm %ss are immutable: bump %s (name template %q)", s.Name, kind, key, name, name, kind, v, tmpl)
	}
	return fmt.Errorf("stack %s: %s %q (%s) changed but its name %q did not; Swarm %ss are immutable: give it a versioned name such as ${STACK_NAME}_%s_${%s_VERSION}", s.Name, kind, key, name, name, kind, key, envName(key))
}

// planSecrets decides which file-based secrets to create or relabel and which missing external
// secrets to generate.
func (c *Client) planSecrets(ctx context.Context, s *Stack, ns convert.Namespace, opts DeployOptions) ([]swarm.SecretSpec, []secretUpdate, []generatedSecret, error) {
	specs, err := convert.Secrets(ns, s.Config.Secrets)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("stack %s: read secret file: %w", s.Name, err)
	}
	f := filters.NewArgs()
	for _, spec := range specs {
		f.Add("name", spec.Name)
	}
	for _, sec := range s.Config.Secrets {
		if sec.External.External {
			f.Add("name", sec.Name)
		}
	}
	if f.Len() == 0 {
		return nil, nil, nil, nil
	}
	existing, err := c.docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list secrets of stack %s: %w", s.Name, err)
	}
	byName := map[string]swarm.Secret{}
	for _, sec := range existing {
		byName[sec.Spec.Name] = sec
	}
	var create []swarm.SecretSpec
	var updates []secretUpdate
	for _, spec := range specs {
		cur, ok := byName[spec.Name]
		switch {
		case !ok:
			create = append(create, spec)
		case !hasLabels(cur.Spec.Labels, spec.Labels):
			// Swarm returns no secret data, so a content change is only caught when the daemon
			// refuses this label update; see doc.go.
			updates = append(updates, secretUpdate{existing: cur, spec: spec})
		}
	}
	var generate []generatedSecret
	var missing []error
	for key, sec := range s.Config.Secrets {
		if !sec.External.External {
			continue
		}
		if _, ok := byName[sec.Name]; ok {
			continue
		}
		policy, ok := opts.Secrets[key]
		if !ok {
			policy = SecretPolicy{Length: defaultSecretLength, Generate: true}
		}
		if policy.Value == nil && !policy.Generate {
			hint := policy.Missing
			if hint == "" {
				hint = "insert it (abra app secret insert) before deploying"
			}
			missing = append(missing, fmt.Errorf("stack %s: external secret %q (%s) does not exist and is not generated; %s", s.Name, key, sec.Name, hint))
			continue
		}
		generate = append(generate, generatedSecret{key: key, name: sec.Name, length: policy.Length, charset: policy.Charset, value: policy.Value})
	}
	if len(missing) > 0 {
		return nil, nil, nil, errors.Join(missing...)
	}
	sort.Slice(generate, func(i, j int) bool { return generate[i].name < generate[j].name })
	return create, updates, generate, nil
}

// hasLabels reports whether have contains every label of want with the same value.
func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// createObjects executes the plan: networks, configs, then secrets, as the CLI orders them.
func (c *Client) createObjects(ctx context.Context, s *Stack, p objectPlan, opts DeployOptions) error {
	// An external network (proxy) is shared by design: the run that found it missing creates it
	// for every stack that will use it, so it carries who made it (managed-by, owner) but no
	// run or role, and no run's teardown or garbage collection removes it.
	shared := bookkeepingLabels(opts)
	delete(shared, v1.LabelRun)
	delete(shared, v1.LabelRole)
	for _, name := range p.externalNetworks {
		o := network.CreateOptions{Driver: "overlay", Attachable: true, Labels: shared}
		if _, err := c.docker.NetworkCreate(ctx, name, o); err != nil && !errdefs.IsConflict(err) {
			return fmt.Errorf("create external network %q: %w", name, err)
		}
	}
	names := sortedKeys(p.networks)
	for _, name := range names {
		if _, err := c.docker.NetworkCreate(ctx, name, p.networks[name]); err != nil {
			return fmt.Errorf("create network %q: %w", name, err)
		}
	}
	for _, spec := range p.configs {
		spec.Labels = withLabels(spec.Labels, bookkeepingLabels(opts))
		if _, err := c.docker.ConfigCreate(ctx, spec); err != nil {
			return fmt.Errorf("create config %q: %w", spec.Name, err)
		}
	}
	for _, spec := range p.secrets {
		spec.Labels = withLabels(spec.Labels, bookkeepingLabels(opts))
		if _, err := c.docker.SecretCreate(ctx, spec); err != nil {
			return fmt.Errorf("create secret %q: %w", spec.Name, err)
		}
	}
	for _, u := range p.secretUpdates {
		spec := u.spec
		spec.Labels = withLabels(spec.Labels, bookkeepingLabels(opts))
		if err := c.docker.SecretUpdate(ctx, u.existing.ID, u.existing.Version, spec); err != nil {
			if errdefs.IsInvalidArgument(err) {
				return immutableError(s, "secret", composeKeys(convert.NewNamespace(s.Name), s.Config.Secrets)[spec.Name], spec.Name)
			}
			return fmt.Errorf("update secret %q: %w", spec.Name, err)
		}
	}
	for _, g := range p.generate {
		if err := c.generateSecret(ctx, s, g, opts); err != nil {
			return err
		}
	}
	return nil
}

// generateSecret creates one missing external secret with random content. The value lives only
// in this function and in the request body; it is never logged or returned.
func (c *Client) generateSecret(ctx context.Context, s *Stack, g generatedSecret, opts DeployOptions) error {
	data := g.value
	if data == nil {
		var err error
		if data, err = generateSecret(g.length, g.charset); err != nil {
			return err
		}
	}
	// An app may print it in its logs, which the runs keep.
	secrets.Remember(g.key, string(data))
	labels := withLabels(map[string]string{v1.LabelSecretOf: s.Name}, bookkeepingLabels(opts))
	spec := swarm.SecretSpec{Annotations: swarm.Annotations{Name: g.name, Labels: labels}, Data: data}
	if _, err := c.docker.SecretCreate(ctx, spec); err != nil && !errdefs.IsConflict(err) {
		return fmt.Errorf("create generated secret %q: %w", g.name, err)
	}
	return nil
}

// bookkeepingLabels are the labels of ours that say who made an object and why. They are
// written whenever an object is created or updated but never cause an update themselves.
func bookkeepingLabels(opts DeployOptions) map[string]string {
	l := map[string]string{v1.LabelManagedBy: v1.ManagedByValue}
	if opts.Role != "" {
		l[v1.LabelRole] = opts.Role
	}
	if opts.RunID != "" {
		l[v1.LabelRun] = opts.RunID
	}
	maps.Copy(l, opts.Labels)
	return l
}

// withLabels returns a new map with base's labels and then extra's; it never changes base,
// which may be a map of the compose Config that the CLI's converter hands out.
func withLabels(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	maps.Copy(out, base)
	maps.Copy(out, extra)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
