package backup

import (
	"fmt"
	"path"
	"strings"

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
	b := builder{plan: Plan{Stack: st.Name}, services: st.ComposeServices(), volumes: st.VolumeNames()}
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
