// Package backup owns the backup plan of a stack: what the Co-op Cloud backup specification
// (docs.coopcloud.tech, specs/backup) and the older per-service backupbot style say a backup of
// one loaded, interpolated stack takes — which volumes and paths, from which service's
// container, and which hooks run where — together with the problems that make a backup
// impossible and the warnings lint reports. Lint, the tier planner and the backup and restore
// tiers all read this one plan; nothing else reads backupbot labels. The package decides and
// describes; it runs nothing and talks to no Docker daemon.
package backup
