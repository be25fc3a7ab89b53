package swarm

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/swarm"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// serviceAction is what a deploy does to one service.
type serviceAction string

const (
	actionKeep   serviceAction = "keep"   // already runs the desired spec
	actionAdopt  serviceAction = "adopt"  // deployed by hand from the same input; left as is
	actionCreate serviceAction = "create" // missing
	actionUpdate serviceAction = "update" // differs
	actionRemove serviceAction = "remove" // no longer in the compose files
)

// serviceStep is one decision of planServices.
type serviceStep struct {
	name     string
	action   serviceAction
	spec     swarm.ServiceSpec // what to send, labels included (create, update)
	existing swarm.Service     // what is there (keep, adopt, update, remove)
}

// desiredService is one converted service: cli is exactly what `docker stack deploy` would
// send, want adds abra's version label.
type desiredService struct {
	cli, want swarm.ServiceSpec
}

// planServices decides, without I/O, what to do with each service. A service is kept when its
// spec-hash label and version label match; otherwise a service that nevertheless runs the same
// spec (a hand `docker stack deploy` from the same files at the same version) is adopted
// without a write; anything else is created or updated. Services the compose files dropped are
// removed. Steps are sorted by action then name, so execution order is stable.
func planServices(stack string, desired map[string]desiredService, existing []swarm.Service, networkNames map[string]string, opts DeployOptions) []serviceStep {
	byName := map[string]swarm.Service{}
	for _, svc := range existing {
		byName[svc.Spec.Name] = svc
	}
	versionKey := v1.VersionLabel(stack)
	stackVersion := stackLabel(summarise(existing, nil)[stack], versionKey)
	ignore := ignoredLabels(opts)
	var steps []serviceStep
	for name, d := range desired {
		hash := specHash(d.want)
		send := d.want
		send.Labels = withLabels(withLabels(d.want.Labels, bookkeepingLabels(opts)), map[string]string{v1.LabelSpecHash: hash})
		cur, ok := byName[name]
		switch {
		case !ok:
			steps = append(steps, serviceStep{name: name, action: actionCreate, spec: send})
		case cur.Spec.Labels[v1.LabelSpecHash] == hash && cur.Spec.Labels[versionKey] == d.want.Labels[versionKey] &&
			!(opts.CorrectDrift && len(specDiff(cur.Spec, d.want, ignore, networkNames)) > 0):
			steps = append(steps, serviceStep{name: name, action: actionKeep, existing: cur})
		case adoptable(cur.Spec, d, ignore, networkNames, versionKey, stackVersion, opts.Version):
			steps = append(steps, serviceStep{name: name, action: actionAdopt, existing: cur})
		default:
			steps = append(steps, serviceStep{name: name, action: actionUpdate, spec: preserveUnchanged(send, cur.Spec), existing: cur})
		}
	}
	for name, cur := range byName {
		if _, ok := desired[name]; !ok {
			steps = append(steps, serviceStep{name: name, action: actionRemove, existing: cur})
		}
	}
	order := map[serviceAction]int{actionKeep: 0, actionAdopt: 1, actionCreate: 2, actionUpdate: 3, actionRemove: 4}
	sort.Slice(steps, func(i, j int) bool {
		if order[steps[i].action] != order[steps[j].action] {
			return order[steps[i].action] < order[steps[j].action]
		}
		return steps[i].name < steps[j].name
	})
	return steps
}

// adoptable reports whether a service deployed without our labels already runs what we would
// deploy. The version label we add to every service is only required where the compose files
// put it themselves; elsewhere the stack's version (abra reads it from the app service) decides.
func adoptable(have swarm.ServiceSpec, d desiredService, ignore map[string]bool, networkNames map[string]string, versionKey, stackVersion, version string) bool {
	if version != "" && stackVersion != version {
		return false
	}
	skip := ignore
	if _, ok := d.cli.Labels[versionKey]; !ok {
		skip = withBool(ignore, versionKey)
	}
	return specsEqual(have, d.cli, skip, networkNames)
}

func withBool(m map[string]bool, k string) map[string]bool {
	out := make(map[string]bool, len(m)+1)
	for key, v := range m {
		out[key] = v
	}
	out[k] = true
	return out
}

// preserveUnchanged keeps, like `docker stack deploy`, the image a previous deploy pinned when
// the compose image is the same and this deploy pins none itself (a local image, deployed by
// tag), and the current ForceUpdate counter (stack deploy has no --force), so that an update
// does not restart tasks for nothing.
func preserveUnchanged(send, cur swarm.ServiceSpec) swarm.ServiceSpec {
	if send.TaskTemplate.ContainerSpec != nil && cur.TaskTemplate.ContainerSpec != nil &&
		send.Labels[v1.LabelStackImage] == cur.Labels[v1.LabelStackImage] && !digested(send.TaskTemplate.ContainerSpec.Image) {
		cs := *send.TaskTemplate.ContainerSpec
		cs.Image = cur.TaskTemplate.ContainerSpec.Image
		send.TaskTemplate.ContainerSpec = &cs
	}
	send.TaskTemplate.ForceUpdate = cur.TaskTemplate.ForceUpdate
	return send
}

// serviceAuth is the registry credentials of the service's image, sent with its create or
// update so that Swarm hands them to whichever node pulls it (--with-registry-auth).
func (c *Client) serviceAuth(spec swarm.ServiceSpec) (string, error) {
	cs := spec.TaskTemplate.ContainerSpec
	if c.auth == nil || cs == nil {
		return "", nil
	}
	named, err := reference.ParseNormalizedNamed(cs.Image)
	if err != nil {
		return "", nil // the daemon names the bad reference itself
	}
	return c.auth.encoded(reference.Domain(named))
}

// maxUpdateAttempts bounds retries of an update that raced another writer.
const maxUpdateAttempts = 5

// applyStep executes one create, update or remove.
func (c *Client) applyStep(ctx context.Context, st serviceStep) error {
	switch st.action {
	case actionCreate:
		auth, err := c.serviceAuth(st.spec)
		if err != nil {
			return fmt.Errorf("create service %q: %w", st.name, err)
		}
		if _, err := c.docker.ServiceCreate(ctx, st.spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: auth}); err != nil {
			return fmt.Errorf("create service %q: %w", st.name, err)
		}
	case actionUpdate:
		return c.updateService(ctx, st)
	case actionRemove:
		if err := c.docker.ServiceRemove(ctx, st.existing.ID); err != nil {
			return fmt.Errorf("remove service %q: %w", st.name, err)
		}
	}
	return nil
}

// updateService updates with the version index read last; when another writer got there first
// Swarm answers "update out of sequence", and the service is read again and the update retried.
func (c *Client) updateService(ctx context.Context, st serviceStep) error {
	cur := st.existing
	for attempt := 1; ; attempt++ {
		spec := preserveUnchanged(st.spec, cur.Spec)
		auth, err := c.serviceAuth(spec)
		if err != nil {
			return fmt.Errorf("update service %q: %w", st.name, err)
		}
		resp, err := c.docker.ServiceUpdate(ctx, cur.ID, cur.Version, spec, swarm.ServiceUpdateOptions{EncodedRegistryAuth: auth})
		if err == nil {
			_ = resp.Warnings // only registry-resolution warnings, which we never ask for
			return nil
		}
		if !strings.Contains(err.Error(), "update out of sequence") || attempt == maxUpdateAttempts {
			return fmt.Errorf("update service %q: %w", st.name, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
		if cur, _, err = c.docker.ServiceInspectWithRaw(ctx, cur.ID, swarm.ServiceInspectOptions{}); err != nil {
			return fmt.Errorf("update service %q: read again: %w", st.name, err)
		}
	}
}
