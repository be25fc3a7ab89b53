package backup

import (
	"fmt"
	"path"
	"slices"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// builder accumulates a Plan.
type builder struct {
	services []swarm.ComposeService
	// volumes are the stack's volumes: compose key → Swarm name.
	volumes map[string]string
	plan    Plan
	// volumeLabels holds backupbot.backup.volumes.* labels by key, with the service that set
	// each.
	volumeLabels map[string]labelValue
}

type labelValue struct{ service, value string }

func (b *builder) warn(format string, args ...any) {
	b.plan.Warnings = append(b.plan.Warnings, fmt.Sprintf(format, args...))
}
func (b *builder) problem(format string, args ...any) {
	b.plan.Problems = append(b.plan.Problems, fmt.Sprintf(format, args...))
}

// collect reads the backupbot labels of every service: declarations, volume labels and hooks.
func (b *builder) collect() {
	b.volumeLabels = map[string]labelValue{}
	for _, s := range b.services {
		labels := s.DeployLabels
		if v, ok := labels[v1.LabelBackup]; ok {
			switch {
			case strings.EqualFold(strings.TrimSpace(v), "true"):
				b.plan.Declared = append(b.plan.Declared, s.Name)
			case !strings.EqualFold(strings.TrimSpace(v), "false"):
				b.warn("services.%s.deploy.labels %s is %q, neither true nor false: backups are not enabled by it", s.Name, v1.LabelBackup, v)
			}
		}
		if _, ok := s.Labels[v1.LabelBackup]; ok {
			if _, deploy := labels[v1.LabelBackup]; !deploy {
				b.warn("services.%s.labels sets %s on the container: backupbot reads deploy.labels, so it is ignored", s.Name, v1.LabelBackup)
			}
		}
		for _, k := range sortedKeys(labels) {
			v := labels[k]
			switch {
			case strings.HasPrefix(k, v1.LabelBackupVolumesPrefix):
				if prev, ok := b.volumeLabels[k]; ok && prev.value != v {
					b.problem("label %s is %q on service %s but %q on service %s", k, prev.value, prev.service, v, s.Name)
					continue
				}
				b.volumeLabels[k] = labelValue{service: s.Name, value: v}
			case slices.Contains(hookLabels, k):
				if strings.TrimSpace(v) != "" {
					b.plan.Hooks = append(b.plan.Hooks, Hook{Service: s.Name, Label: k, Command: strings.TrimSpace(v)})
				}
			case strings.HasPrefix(k, "backupbot.") && k != v1.LabelBackup && k != v1.LabelBackupPath:
				b.warn("services.%s.deploy.labels %s is not a label of the backup spec: it is ignored", s.Name, k)
			}
		}
	}
}

// perServiceDeclared lists the declaring services that name their paths (the older style).
func (b *builder) perServiceDeclared() []string {
	var out []string
	for _, s := range b.services {
		if slices.Contains(b.plan.Declared, s.Name) && strings.TrimSpace(s.DeployLabels[v1.LabelBackupPath]) != "" {
			out = append(out, s.Name)
		}
	}
	for _, s := range b.services {
		if !slices.Contains(b.plan.Declared, s.Name) && strings.TrimSpace(s.DeployLabels[v1.LabelBackupPath]) != "" {
			b.warn("services.%s.deploy.labels %s is ignored: the service does not set %s=true", s.Name, v1.LabelBackupPath, v1.LabelBackup)
		}
	}
	return out
}

func (b *builder) specDeclarers(perService []string) []string {
	var out []string
	for _, d := range b.plan.Declared {
		if !slices.Contains(perService, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// volumeSources adds every volume of the stack, as the spec says: all of it, or the paths of
// backupbot.backup.volumes.<volume>.path; excluded volumes are left out.
func (b *builder) volumeSources() {
	keys := sortedKeys(b.volumes)
	for k := range b.volumeLabels {
		name := strings.TrimSuffix(strings.TrimPrefix(k, v1.LabelBackupVolumesPrefix), ".path")
		if !slices.Contains(keys, name) {
			b.problem("label %s (service %s) names volume %q, which the stack does not define (volumes: %s)", k, b.volumeLabels[k].service, name, strings.Join(keys, ", "))
		}
	}
	for _, vol := range keys {
		if lv, ok := b.volumeLabels[v1.LabelBackupVolumesPrefix+vol]; ok {
			switch strings.ToLower(strings.TrimSpace(lv.value)) {
			case "false":
				b.plan.Excluded = append(b.plan.Excluded, vol)
				continue
			case "true":
			default:
				b.problem("label %s%s is %q (valid: true, false)", v1.LabelBackupVolumesPrefix, vol, lv.value)
				continue
			}
		}
		svc, mount, ok := b.mounter(vol)
		if !ok {
			b.warn("volume %s is mounted by no service: there is nothing of it to back up", vol)
			continue
		}
		src := Source{Service: svc, Volume: vol, VolumeName: b.volumeName(vol), Base: mount}
		pathLabel := v1.LabelBackupVolumesPrefix + vol + ".path"
		lv, limited := b.volumeLabels[pathLabel]
		if !limited {
			b.add(src)
			continue
		}
		rels := splitPaths(lv.value)
		if len(rels) == 0 {
			b.problem("label %s is empty: name paths relative to the volume root, comma separated", pathLabel)
		}
		for _, rel := range rels {
			clean := path.Clean(rel)
			if path.IsAbs(rel) || clean == ".." || strings.HasPrefix(clean, "../") {
				b.problem("label %s: %q is not a path relative to the volume root (such as backup.sql or data/files)", pathLabel, rel)
				continue
			}
			if clean == "." {
				clean = ""
			}
			one := src
			one.Rel = clean
			b.add(one)
		}
	}
}

// pathSources adds the backupbot.backup.path paths of a service in the older style. A path in
// one of the service's volumes becomes that volume (or a part of it); a path that a whole
// volume of the spec part already takes adds nothing.
func (b *builder) pathSources(svc string) {
	i := slices.IndexFunc(b.services, func(s swarm.ComposeService) bool { return s.Name == svc })
	s := b.services[i]
	for _, p := range splitPaths(s.DeployLabels[v1.LabelBackupPath]) {
		if !path.IsAbs(p) {
			b.problem("services.%s.deploy.labels %s: %q is not an absolute container path", svc, v1.LabelBackupPath, p)
			continue
		}
		p = path.Clean(p)
		src, inVolume := b.inVolume(s, p)
		if !inVolume {
			b.warn("services.%s.deploy.labels %s: %s is in no volume of the service, so it does not survive a redeploy", svc, v1.LabelBackupPath, p)
			src = Source{Service: svc, Base: "/", Rel: strings.TrimPrefix(p, "/")}
		}
		b.add(src)
	}
}

// inVolume maps a container path of s to the named volume mounted deepest above it.
func (b *builder) inVolume(s swarm.ComposeService, p string) (Source, bool) {
	best := Source{}
	for _, m := range s.Mounts {
		mount := path.Clean(m.Target)
		rel, ok := within(p, mount)
		if !ok || len(mount) < len(best.Base) {
			continue
		}
		best = Source{Service: s.Name, Volume: m.Volume, VolumeName: b.volumeName(m.Volume), Base: mount, Rel: rel}
	}
	return best, best.Volume != ""
}

// add appends src unless the plan already takes it: the same path, or a whole volume holding it.
func (b *builder) add(src Source) {
	for _, have := range b.plan.Sources {
		if have.Volume != "" && have.Volume == src.Volume {
			if have.Whole() || have.Rel == src.Rel {
				return
			}
		}
		if have.Volume == "" && src.Volume == "" && have.Service == src.Service && have.Rel == src.Rel {
			return
		}
	}
	if src.Whole() {
		// A whole volume takes whatever paths of it were added before.
		b.plan.Sources = slices.DeleteFunc(b.plan.Sources, func(h Source) bool { return h.Volume == src.Volume })
	}
	b.plan.Sources = append(b.plan.Sources, src)
}

// mounter picks the service a volume is copied from: a declaring service that mounts it, else
// the first service by name that does.
func (b *builder) mounter(vol string) (service, mount string, ok bool) {
	for _, declaring := range []bool{true, false} {
		for _, s := range b.services {
			if declaring != slices.Contains(b.plan.Declared, s.Name) {
				continue
			}
			for _, m := range s.Mounts {
				if m.Volume == vol {
					return s.Name, path.Clean(m.Target), true
				}
			}
		}
	}
	return "", "", false
}

// volumeName is the Swarm name of a compose volume, as docker/cli's converter names it.
func (b *builder) volumeName(key string) string {
	if name, ok := b.volumes[key]; ok {
		return name
	}
	return b.plan.Stack + "_" + key
}

// within returns p relative to dir when p is dir or below it.
func within(p, dir string) (string, bool) {
	if p == dir {
		return "", true
	}
	if dir == "/" {
		return strings.TrimPrefix(p, "/"), true
	}
	if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
		return rest, true
	}
	return "", false
}

func splitPaths(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
