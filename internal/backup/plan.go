package backup

import (
	"fmt"
	"path"
	"slices"
	"strings"

	composetypes "github.com/docker/cli/cli/compose/types"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// Style says which convention a stack's backup labels follow.
type Style string

// The styles of backup labels.
const (
	// StyleNone is a stack on which no service enables backups.
	StyleNone Style = ""
	// StyleSpec is the Co-op Cloud backup specification: backupbot.backup=true on one service
	// enables backups of every volume of the stack, minus exclusions, within path limits.
	StyleSpec Style = "spec"
	// StylePerService is the older backupbot style: each service with backupbot.backup=true
	// names the container paths to save in backupbot.backup.path.
	StylePerService Style = "per-service"
	// StyleMixed is both at once: the plan is their union, and lint warns.
	StyleMixed Style = "mixed"
)

// Plan is what a backup of one stack takes and runs, computed from the stack as Swarm would run
// it (labels interpolated).
type Plan struct {
	// Stack is the stack name.
	Stack string
	// Style is the convention the labels follow.
	Style Style
	// Declared lists the services whose backupbot.backup is true, sorted.
	Declared []string
	// Sources are what is copied out and back in, in archive order.
	Sources []Source
	// Excluded lists the volumes excluded by backupbot.backup.volumes.<volume>=false, sorted.
	Excluded []string
	// Hooks are the backup and restore hooks of every service, by service name then label.
	Hooks []Hook
	// Problems make a backup impossible as written: the backup and restore tiers fail with
	// them and lint reports them as errors.
	Problems []string
	// Warnings are what lint reports without failing.
	Warnings []string
}

// Enabled reports whether a service enables backups: only then are the backup and restore
// tiers applicable.
func (p Plan) Enabled() bool { return len(p.Declared) > 0 }

// HooksFor returns the hooks with the label key (v1.LabelBackupPreHook, ...), by service.
func (p Plan) HooksFor(label string) []Hook {
	var out []Hook
	for _, h := range p.Hooks {
		if h.Label == label {
			out = append(out, h)
		}
	}
	return out
}

// Source is one volume, part of a volume or container path a backup copies out of a running
// container of a service and a restore copies back.
type Source struct {
	// Service is the compose service whose running container the files come from and go back
	// into: the one declaring the backup when it mounts the volume, else the first (by name)
	// that mounts it.
	Service string
	// Volume is the compose volume key; empty for a container path outside every volume (the
	// older style allows such paths; they do not survive a redeploy).
	Volume string
	// VolumeName is the volume's Swarm name, <stack>_<volume> unless the compose file names it.
	VolumeName string
	// Base is the volume's mount point in Service, or "/" for a container path.
	Base string
	// Rel is the path relative to Base; empty for the whole volume.
	Rel string
}

// ContainerPath is the path copied in Service's container.
func (s Source) ContainerPath() string { return path.Join(s.Base, s.Rel) }

// ArchiveRoot is where the source's Base lives in a backup archive: a volume under
// var/lib/docker/volumes/<volume name>/_data, as the spec's output section and backup-bot-two
// lay it out (the volume's directory under Docker's root); a container path under
// containers/<stack>_<service>.
func (s Source) ArchiveRoot(stack string) string {
	if s.Volume != "" {
		return path.Join("var/lib/docker/volumes", s.VolumeName, "_data")
	}
	return path.Join("containers", stack+"_"+s.Service)
}

// ArchivePath is where the source itself lives in a backup archive.
func (s Source) ArchivePath(stack string) string { return path.Join(s.ArchiveRoot(stack), s.Rel) }

// Whole reports whether the source is a whole volume.
func (s Source) Whole() bool { return s.Volume != "" && s.Rel == "" }

// String describes the source for logs and errors: "volume db path backup.sql (service db)".
func (s Source) String() string {
	switch {
	case s.Volume == "":
		return fmt.Sprintf("path %s of service %s (not in a volume)", s.ContainerPath(), s.Service)
	case s.Rel == "":
		return fmt.Sprintf("volume %s (service %s, %s)", s.Volume, s.Service, s.Base)
	}
	return fmt.Sprintf("volume %s path %s (service %s, %s)", s.Volume, s.Rel, s.Service, s.ContainerPath())
}

// Hook is a backup or restore hook: a command run in a running container of Service.
type Hook struct {
	// Service is the compose service declaring the hook.
	Service string
	// Label is the hook's label key, e.g. v1.LabelBackupPreHook.
	Label string
	// Command is the label's value.
	Command string
}

// hookLabels are the hook labels in the order a backup and a restore use them.
var hookLabels = []string{v1.LabelBackupPreHook, v1.LabelBackupPostHook, v1.LabelRestorePreHook, v1.LabelRestorePostHook}

// For computes the backup plan of a loaded stack. It reads the service (deploy) labels, which
// are what backupbot reads from Swarm, after interpolation: backupbot.backup:
// "${ENABLE_BACKUPS:-true}" enables backups.
func For(st *swarm.Stack) Plan {
	b := builder{stack: st, plan: Plan{Stack: st.Name}}
	b.services = slices.Clone(st.Config.Services)
	slices.SortFunc(b.services, func(a, c composetypes.ServiceConfig) int { return strings.Compare(a.Name, c.Name) })
	b.collect()
	if !b.plan.Enabled() {
		return b.plan
	}
	perService := b.perServiceDeclared()
	specPart := len(perService) < len(b.plan.Declared) || len(b.volumeLabels) > 0
	switch {
	case specPart && len(perService) > 0:
		b.plan.Style = StyleMixed
		b.warn("backup labels mix the backup spec (backupbot.backup.volumes.*, or backupbot.backup=true without a path on %s) with the older %s on %s: the plan takes both; use one style",
			strings.Join(b.specDeclarers(perService), ", "), v1.LabelBackupPath, strings.Join(perService, ", "))
	case specPart:
		b.plan.Style = StyleSpec
	default:
		b.plan.Style = StylePerService
	}
	if specPart {
		b.volumeSources()
	} else if len(b.volumeLabels) > 0 {
		b.warn("labels %s* are ignored", v1.LabelBackupVolumesPrefix)
	}
	for _, svc := range perService {
		b.pathSources(svc)
	}
	if len(b.plan.Sources) == 0 {
		b.problem("backups are enabled (%s=true on %s) but the plan takes nothing: no volume is mounted by a service, or every volume is excluded",
			v1.LabelBackup, strings.Join(b.plan.Declared, ", "))
	}
	return b.plan
}

// builder accumulates a Plan.
type builder struct {
	stack    *swarm.Stack
	services []composetypes.ServiceConfig
	plan     Plan
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
		labels := s.Deploy.Labels
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
		if slices.Contains(b.plan.Declared, s.Name) && strings.TrimSpace(s.Deploy.Labels[v1.LabelBackupPath]) != "" {
			out = append(out, s.Name)
		}
	}
	for _, s := range b.services {
		if !slices.Contains(b.plan.Declared, s.Name) && strings.TrimSpace(s.Deploy.Labels[v1.LabelBackupPath]) != "" {
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
	keys := sortedKeys(b.stack.Config.Volumes)
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
	i := slices.IndexFunc(b.services, func(s composetypes.ServiceConfig) bool { return s.Name == svc })
	s := b.services[i]
	for _, p := range splitPaths(s.Deploy.Labels[v1.LabelBackupPath]) {
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
func (b *builder) inVolume(s composetypes.ServiceConfig, p string) (Source, bool) {
	best := Source{}
	for _, m := range s.Volumes {
		if m.Type != "volume" || m.Source == "" {
			continue
		}
		mount := path.Clean(m.Target)
		rel, ok := within(p, mount)
		if !ok || len(mount) < len(best.Base) {
			continue
		}
		best = Source{Service: s.Name, Volume: m.Source, VolumeName: b.volumeName(m.Source), Base: mount, Rel: rel}
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
			for _, m := range s.Volumes {
				if m.Type == "volume" && m.Source == vol {
					return s.Name, path.Clean(m.Target), true
				}
			}
		}
	}
	return "", "", false
}

// volumeName is the Swarm name of a compose volume, as docker/cli's converter names it.
func (b *builder) volumeName(key string) string {
	cfg := b.stack.Config.Volumes[key]
	switch {
	case cfg.Name != "":
		return cfg.Name
	case cfg.External.External:
		return key
	}
	return b.stack.Name + "_" + key
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
