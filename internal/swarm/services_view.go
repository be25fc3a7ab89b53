package swarm

import (
	"slices"
	"strings"
)

// ComposeService is what one service of a loaded stack declares about its data, without
// docker/cli's compose types: its labels and the named volumes it mounts. Backups are
// planned from it (internal/backup), so that only this package reads the compose types.
type ComposeService struct {
	// Name is the compose service name.
	Name string
	// Labels are the container labels (services.<name>.labels); DeployLabels the service
	// labels (services.<name>.deploy.labels), which Swarm and backupbot read. Interpolated.
	Labels, DeployLabels map[string]string
	// Mounts are the named volumes the service mounts, in compose order.
	Mounts []VolumeMount
}

// VolumeMount is a named volume mounted into a service's containers.
type VolumeMount struct {
	// Volume is the compose volume key; Target the mount point in the container.
	Volume, Target string
}

// ComposeServices returns the stack's services sorted by name.
func (s *Stack) ComposeServices() []ComposeService {
	out := make([]ComposeService, 0, len(s.Config.Services))
	for _, svc := range s.Config.Services {
		cs := ComposeService{Name: svc.Name, Labels: svc.Labels, DeployLabels: svc.Deploy.Labels}
		for _, m := range svc.Volumes {
			if m.Type == "volume" && m.Source != "" {
				cs.Mounts = append(cs.Mounts, VolumeMount{Volume: m.Source, Target: m.Target})
			}
		}
		out = append(out, cs)
	}
	slices.SortFunc(out, func(a, b ComposeService) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// VolumeNames returns, per compose volume key of the stack, the volume's Swarm name as
// docker/cli's converter names it: its name: when set, the key of an external volume, else
// <stack>_<key>.
func (s *Stack) VolumeNames() map[string]string {
	out := make(map[string]string, len(s.Config.Volumes))
	for key, cfg := range s.Config.Volumes {
		switch {
		case cfg.Name != "":
			out[key] = cfg.Name
		case cfg.External.External:
			out[key] = key
		default:
			out[key] = s.Name + "_" + key
		}
	}
	return out
}
