package swarm

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/docker/cli/cli/compose/convert"
	composetypes "github.com/docker/cli/cli/compose/types"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// DeployOptions says what a deploy labels and what it may create.
type DeployOptions struct {
	// Version is the recipe version (a git tag such as 1.1.0+1.1) written to abra's label
	// coop-cloud.<STACK_NAME>.version on every service. Optional; empty keeps what the compose
	// file's deploy labels say.
	Version string
	// Role is RoleWarm or RoleTest of api/v1, written to LabelRole. Optional.
	Role string
	// RunID is the id of the test run owning the stack, written to LabelRun. Optional.
	RunID string
	// CreateMissingNetworks creates a missing external network (such as traefik's proxy) as an
	// attachable overlay instead of failing. Optional. Defaults to false.
	CreateMissingNetworks bool
	// Secrets says, per compose secret key (db_password), how a missing external secret is
	// generated. Optional; a key not listed is generated with 32 characters.
	Secrets map[string]SecretPolicy
	// Labels are extra labels put on every object the deploy creates (a test suite's id, say).
	// Optional.
	Labels map[string]string
	// CorrectDrift updates a service we deployed whose live spec was changed by hand since
	// (see Drift); otherwise a service that carries our spec hash is left as it is. Optional.
	CorrectDrift bool
	// Placement is added to every service's placement (a RecipeTest's spec.placement, so test
	// stacks stay on the nodes meant for them). Optional.
	Placement Placement
	// Images maps an image reference as the compose files write it to the reference to deploy
	// instead, name:tag@sha256:… (see Image.Pinned), so every node runs the resolved bytes.
	// Optional; a reference not listed is deployed as written.
	Images map[string]string
}

// Placement is extra Swarm placement for every service of a stack.
type Placement struct {
	// Constraints in Swarm's syntax, such as node.labels.ccci.test==true.
	Constraints []string
	// Spread lists the descriptors of spread preferences, such as node.labels.zone.
	Spread []string
}

// apply adds p to a service's task placement.
func (p Placement) apply(spec *swarm.ServiceSpec) {
	if len(p.Constraints) == 0 && len(p.Spread) == 0 {
		return
	}
	if spec.TaskTemplate.Placement == nil {
		spec.TaskTemplate.Placement = &swarm.Placement{}
	}
	// A copy: the converter's slices may share arrays with the loaded compose config.
	cp := *spec.TaskTemplate.Placement
	cp.Constraints, cp.Preferences = slices.Clone(cp.Constraints), slices.Clone(cp.Preferences)
	spec.TaskTemplate.Placement = &cp
	pl := &cp
	for _, c := range p.Constraints {
		if !slices.Contains(pl.Constraints, c) {
			pl.Constraints = append(pl.Constraints, c)
		}
	}
	for _, d := range p.Spread {
		pl.Preferences = append(pl.Preferences, swarm.PlacementPreference{Spread: &swarm.SpreadOver{SpreadDescriptor: d}})
	}
}

// SecretPolicy says how a missing external secret is generated.
type SecretPolicy struct {
	// Length is the number of characters. Optional. Defaults to 32.
	Length int
	// Charset is what the characters are drawn from: alnum or hex (see Charsets). Optional.
	// Defaults to alnum.
	Charset string
	// Generate allows generating the secret when it is missing; false makes a missing secret an
	// error (the operator inserts it by hand).
	Generate bool
	// Value, when set, is inserted as the missing secret's content instead of generating one
	// (an operator-provided value). It is never logged, returned or put in an error.
	Value []byte
	// Missing is added to the error for a missing secret that is neither given nor generated:
	// what the operator should set. Optional.
	Missing string
}

// DeployResult says what a deploy changed.
type DeployResult struct {
	// AlreadyDeployed is true when the stack already matched the desired state and nothing was
	// written to Swarm.
	AlreadyDeployed bool
	// Created, Updated and Removed list the service names (stack-scoped, e.g. app_app) that were
	// created, updated and pruned.
	Created, Updated, Removed []string
}

// Deploy makes the stack on Swarm match s, the way `docker stack deploy --prune
// --resolve-image never` would, and labels every service with abra's version label and our
// bookkeeping labels. Order: reads and refusals first (missing external networks, changed
// immutable configs, missing secrets that may not be generated), then networks, configs and
// secrets, then services created, updated or removed. When everything already matches it makes
// no write call and returns AlreadyDeployed.
//
// Deploy does not wait for the services to converge; call WaitConverged.
func (c *Client) Deploy(ctx context.Context, s *Stack, opts DeployOptions) (DeployResult, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("stack", s.Name)
	ns := convert.NewNamespace(s.Name)

	objects, err := c.planObjects(ctx, s, ns, opts)
	if err != nil {
		return DeployResult{}, err
	}
	if err := c.createObjects(ctx, s, objects, opts); err != nil {
		return DeployResult{}, err
	}
	desired, err := c.convertServices(ctx, s, ns, opts)
	if err != nil {
		return DeployResult{}, err
	}
	existing, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(s.Name)})
	if err != nil {
		return DeployResult{}, fmt.Errorf("list services of stack %s: %w", s.Name, err)
	}

	networkNames, err := c.networkNames(ctx, existing)
	if err == nil && opts.CorrectDrift {
		networkNames, err = c.allNetworkNames(ctx)
	}
	if err != nil {
		return DeployResult{}, err
	}

	var res DeployResult
	for _, st := range planServices(s.Name, desired, existing, networkNames, opts) {
		if st.action == actionAdopt {
			log.V(1).Info("Adopted service deployed by hand", "service", st.name)
		}
		if err := c.applyStep(ctx, st); err != nil {
			return res, err
		}
		switch st.action {
		case actionCreate:
			res.Created = append(res.Created, st.name)
			log.V(1).Info("Created service", "service", st.name)
		case actionUpdate:
			res.Updated = append(res.Updated, st.name)
			log.V(1).Info("Updated service", "service", st.name)
		case actionRemove:
			res.Removed = append(res.Removed, st.name)
			log.V(1).Info("Removed service", "service", st.name)
		}
	}
	res.AlreadyDeployed = !objects.writes() && len(res.Created)+len(res.Updated)+len(res.Removed) == 0
	return res, nil
}

// convertServices runs the CLI's converter and adds abra's version label. The converter reads
// secret and config ids from the daemon, so it runs after those objects exist.
func (c *Client) convertServices(ctx context.Context, s *Stack, ns convert.Namespace, opts DeployOptions) (map[string]desiredService, error) {
	specs, err := convert.Services(ctx, ns, isolatedLabels(s.Config), c.docker)
	if err != nil {
		return nil, fmt.Errorf("stack %s: convert services: %w", s.Name, err)
	}
	out := make(map[string]desiredService, len(specs))
	for key, spec := range specs {
		opts.Placement.apply(&spec)
		pinImage(&spec, opts.Images)
		want := spec
		// Only what we send: a hand deploy of the same stack, which lacks our labels, is
		// still adopted as it is.
		labelRunVolumes(&want, opts)
		if opts.Version != "" {
			want.Labels = withLabels(spec.Labels, map[string]string{v1.VersionLabel(s.Name): opts.Version})
		}
		out[ns.Scope(key)] = desiredService{cli: spec, want: want}
	}
	return out, nil
}

// labelRunVolumes puts our labels (run and owner) on the volumes a test run's tasks create, as
// on its other objects: a run whose services are gone but whose volumes are left is then still
// found, and known to be ours. Warm apps' volumes are left as they are: a new label would be a
// change of their service spec.
func labelRunVolumes(spec *swarm.ServiceSpec, opts DeployOptions) {
	cs := spec.TaskTemplate.ContainerSpec
	if opts.RunID == "" || cs == nil {
		return
	}
	cp := *cs
	cp.Mounts = slices.Clone(cs.Mounts)
	for i, m := range cp.Mounts {
		if m.Type != mount.TypeVolume || m.Source == "" {
			continue
		}
		vo := mount.VolumeOptions{}
		if m.VolumeOptions != nil {
			vo = *m.VolumeOptions
		}
		vo.Labels = withLabels(vo.Labels, bookkeepingLabels(opts))
		cp.Mounts[i].VolumeOptions = &vo
	}
	spec.TaskTemplate.ContainerSpec = &cp
}

// pinImage replaces the service's image by its pinned reference, when images has one. The
// stack-image label keeps the reference as written, as `docker stack deploy --resolve-image
// always` leaves it.
func pinImage(spec *swarm.ServiceSpec, images map[string]string) {
	cs := spec.TaskTemplate.ContainerSpec
	if cs == nil {
		return
	}
	if pinned, ok := images[cs.Image]; ok && pinned != cs.Image {
		cp := *cs
		cp.Image = pinned
		spec.TaskTemplate.ContainerSpec = &cp
	}
}

// isolatedLabels returns a copy of cfg whose services' label maps are fresh: the converter adds
// its labels to the maps it is given, which would otherwise change the Stack.
func isolatedLabels(cfg *composetypes.Config) *composetypes.Config {
	cp := *cfg
	cp.Services = make([]composetypes.ServiceConfig, len(cfg.Services))
	for i, svc := range cfg.Services {
		svc.Deploy.Labels = maps.Clone(svc.Deploy.Labels)
		svc.Labels = maps.Clone(svc.Labels)
		cp.Services[i] = svc
	}
	return &cp
}

// networkNames maps the ids of swarm networks to their names, so a stored spec (ids) compares
// with a converted one (names). It reads only when a service lacks our hash label.
func (c *Client) networkNames(ctx context.Context, existing []swarm.Service) (map[string]string, error) {
	needed := false
	for _, svc := range existing {
		if svc.Spec.Labels[v1.LabelSpecHash] == "" {
			needed = true
		}
	}
	if !needed {
		return nil, nil
	}
	return c.allNetworkNames(ctx)
}
