package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"reflect"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/swarm"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// specHash is the value of LabelSpecHash: a digest of the desired spec (the CLI's conversion
// plus abra's version label, without our bookkeeping labels). encoding/json sorts map keys, so
// equal specs hash equally.
func specHash(spec swarm.ServiceSpec) string {
	data, err := json.Marshal(spec)
	if err != nil {
		// A ServiceSpec is plain data; this cannot fail.
		panic(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// specsEqual reports whether a service on Swarm already runs the desired spec, whoever deployed
// it: ignoring our bookkeeping labels (ignore), what the daemon fills in on create, and an image
// digest the CLI's registry resolution pinned for the same compose image.
func specsEqual(have, want swarm.ServiceSpec, ignore map[string]bool, networkNames map[string]string) bool {
	have = withNetworkNames(have, networkNames)
	return reflect.DeepEqual(comparable(have, want, ignore), comparable(want, want, ignore))
}

// withNetworkNames replaces network ids, which the daemon stores, by the names the CLI sends.
func withNetworkNames(spec swarm.ServiceSpec, names map[string]string) swarm.ServiceSpec {
	nets := make([]swarm.NetworkAttachmentConfig, len(spec.TaskTemplate.Networks))
	for i, n := range spec.TaskTemplate.Networks {
		if name, ok := names[n.Target]; ok {
			n.Target = name
		}
		nets[i] = n
	}
	spec.TaskTemplate.Networks = nets
	return spec
}

// comparable reduces a spec to the generic JSON form with daemon defaults filled in and empty
// values dropped, so that nil and empty, unset and default compare equal.
func comparable(spec, want swarm.ServiceSpec, ignore map[string]bool) any {
	spec = normaliseSpec(spec, want, ignore)
	data, err := json.Marshal(spec)
	if err != nil {
		panic(err)
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		panic(err)
	}
	return prune(generic)
}

// normaliseSpec applies what the client and daemon do to a spec on its way in.
func normaliseSpec(spec, want swarm.ServiceSpec, ignore map[string]bool) swarm.ServiceSpec {
	spec.Labels = maps.Clone(spec.Labels)
	for k := range spec.Labels {
		if ignore[k] {
			delete(spec.Labels, k)
		}
	}
	spec.TaskTemplate.ForceUpdate = 0
	spec = withDaemonDefaults(spec)
	if cs := spec.TaskTemplate.ContainerSpec; cs != nil {
		cs2 := *cs
		cs2.Image = normaliseImage(cs.Image)
		// docker stack deploy --resolve-image always pins a digest; the image is the same
		// when the compose reference it recorded is the one we want.
		// When we pinned the digest ourselves (DeployOptions.Images), it must be that one.
		if wantCS := want.TaskTemplate.ContainerSpec; wantCS != nil && spec.Labels[v1.LabelStackImage] == want.Labels[v1.LabelStackImage] && !digested(wantCS.Image) {
			if named, err := reference.ParseNormalizedNamed(cs.Image); err == nil {
				if _, digested := named.(reference.Digested); digested {
					cs2.Image = normaliseImage(wantCS.Image)
				}
			}
		}
		spec.TaskTemplate.ContainerSpec = &cs2
	}
	return spec
}

// withDaemonDefaults fills in what a 20.10 daemon stores for fields the CLI leaves empty; found
// by the differential test against `docker stack deploy`.
func withDaemonDefaults(spec swarm.ServiceSpec) swarm.ServiceSpec {
	if spec.TaskTemplate.Runtime == "" {
		spec.TaskTemplate.Runtime = swarm.RuntimeContainer
	}
	if cs := spec.TaskTemplate.ContainerSpec; cs != nil && cs.Isolation == "" {
		cs2 := *cs
		cs2.Isolation = "default"
		spec.TaskTemplate.ContainerSpec = &cs2
	}
	if rp := spec.TaskTemplate.RestartPolicy; rp != nil && rp.Condition == "" {
		rp2 := *rp
		rp2.Condition = swarm.RestartPolicyConditionAny
		spec.TaskTemplate.RestartPolicy = &rp2
	}
	ep := swarm.EndpointSpec{}
	if spec.EndpointSpec != nil {
		ep = *spec.EndpointSpec
	}
	if ep.Mode == "" {
		ep.Mode = swarm.ResolutionModeVIP
	}
	ports := make([]swarm.PortConfig, len(ep.Ports))
	for i, p := range ep.Ports {
		if p.Protocol == "" {
			p.Protocol = swarm.PortConfigProtocolTCP
		}
		if p.PublishMode == "" {
			p.PublishMode = swarm.PortConfigPublishModeIngress
		}
		ports[i] = p
	}
	ep.Ports = ports
	spec.EndpointSpec = &ep
	if spec.Mode.Replicated != nil && spec.Mode.Replicated.Replicas == nil {
		one := uint64(1)
		spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &one}
	}
	if spec.Mode.Replicated == nil && spec.Mode.Global == nil && spec.Mode.ReplicatedJob == nil && spec.Mode.GlobalJob == nil {
		one := uint64(1)
		spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &one}
	}
	spec.UpdateConfig = updateDefaults(spec.UpdateConfig)
	spec.RollbackConfig = updateDefaults(spec.RollbackConfig)
	return spec
}

func updateDefaults(u *swarm.UpdateConfig) *swarm.UpdateConfig {
	if u == nil {
		return nil
	}
	c := *u
	if c.FailureAction == "" {
		c.FailureAction = swarm.UpdateFailureActionPause
	}
	if c.Order == "" {
		c.Order = swarm.UpdateOrderStopFirst
	}
	return &c
}

// digested reports whether an image reference carries a digest.
func digested(image string) bool {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return false
	}
	_, ok := named.(reference.Digested)
	return ok
}

// normaliseImage tags an untagged reference :latest in its familiar form, as the Engine client
// does before it sends a spec.
func normaliseImage(image string) string {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return reference.FamiliarString(reference.TagNameOnly(named))
}

// prune drops nulls, empty strings, false, zeros and empty collections from a generic JSON value.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = prune(e)
			if isEmpty(e) {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		return x
	case []any:
		out := x[:0]
		for _, e := range x {
			out = append(out, prune(e))
		}
		return out
	}
	return v
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// ignoredLabels are the labels specsEqual skips: ours, which a hand deploy lacks.
func ignoredLabels(opts DeployOptions) map[string]bool {
	set := map[string]bool{v1.LabelSpecHash: true}
	for k := range bookkeepingLabels(opts) {
		set[k] = true
	}
	return set
}
