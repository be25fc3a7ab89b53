package tiers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/backup"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// plannedBackup returns the backup plan of a deployed stack, or its problems as one error.
func plannedBackup(st *swarm.Stack) (backup.Plan, error) {
	p := backup.For(st)
	if !p.Enabled() {
		return p, fmt.Errorf("no service has %s=true", v1.LabelBackup)
	}
	if len(p.Problems) > 0 {
		return p, fmt.Errorf("backup plan: %s", strings.Join(p.Problems, "; "))
	}
	return p, nil
}

// runBackup writes a marker into the app's data, backs the main stack up as its backup plan
// says, and checks the archive holds the marker: a fresh app may have no data of its own, and
// an archive that is merely not empty would not show that the backup caught the data.
func (x *execution) runBackup(ctx context.Context, l *tierLog) (string, error) {
	p, err := plannedBackup(x.main)
	if err != nil {
		return "", err
	}
	m, err := x.markerFor(p)
	if err != nil {
		return "", err
	}
	text := x.markerText(v1.TierBackup)
	if err := x.writeMarker(ctx, l, x.main.Name, m, text); err != nil {
		return "", err
	}
	a, err := x.backup(ctx, l, x.main.Name, p, string(v1.TierBackup))
	if err != nil {
		return "", err
	}
	ok, err := archiveHolds(a.Path, x.main.Name, m, text)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("archive %s misses the marker written by %s: the backup (%s) does not hold the app's data", x.relPath(a.Path), m, describeSources(p))
	}
	return fmt.Sprintf("archive %s holds the marker: %d files, %d bytes, sha256 %s", x.relPath(a.Path), a.Files, a.Size, a.SHA256), nil
}

// backup writes artifacts/<name>.tar.gz as the plan says: every backup pre-hook, then each
// source copied out of its service's container into the archive (a volume under
// var/lib/docker/volumes/<volume>/_data), then every post-hook — also when a copy failed, since
// a post-hook usually undoes what the pre-hook did (unlock a database). A declared path missing
// after the pre-hooks, or an archive without a single file, is an error. The sha256 is written
// next to the archive (<name>.tar.gz.sha256, in sha256sum's format).
func (x *execution) backup(ctx context.Context, l *tierLog, stack string, p backup.Plan, name string) (archiveInfo, error) {
	l.Printf("backup plan (%s style): %s; excluded volumes %v", p.Style, describeSources(p), p.Excluded)
	if err := x.runHooks(ctx, l, stack, p, v1.LabelBackupPreHook); err != nil {
		return archiveInfo{}, err
	}
	file := filepath.Join(x.req.RunDir, artifactsDir, name+".tar.gz")
	a, copyErr := x.writeArchive(ctx, l, stack, p, file)
	postErr := x.runHooks(ctx, l, stack, p, v1.LabelBackupPostHook)
	if err := errors.Join(copyErr, postErr); err != nil {
		return archiveInfo{}, err
	}
	l.Printf("archive %s: %d entries, %d files, %d bytes, sha256 %s", x.relPath(file), a.Entries, a.Files, a.Size, a.SHA256)
	if a.Files == 0 {
		return a, fmt.Errorf("archive %s holds no file: %s are empty", x.relPath(file), describeSources(p))
	}
	sum := fmt.Sprintf("%s  %s\n", a.SHA256, filepath.Base(file))
	if err := os.WriteFile(file+".sha256", []byte(sum), privateFile); err != nil {
		return a, fmt.Errorf("write checksum: %w", err)
	}
	return a, nil
}

func (x *execution) writeArchive(ctx context.Context, l *tierLog, stack string, p backup.Plan, file string) (archiveInfo, error) {
	aw, err := createArchive(file)
	if err != nil {
		return archiveInfo{}, err
	}
	for _, src := range p.Sources {
		if err := x.copySource(ctx, l, stack, src, aw); err != nil {
			aw.abort()
			return archiveInfo{}, err
		}
	}
	return aw.close()
}

func (x *execution) copySource(ctx context.Context, l *tierLog, stack string, src backup.Source, aw *archiveWriter) error {
	ok, err := x.r.swarm.HasFile(ctx, stack, src.Service, src.ContainerPath())
	if err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	if !ok {
		return fmt.Errorf("back up %s: %s does not exist after the backup pre-hooks ran", src, src.ContainerPath())
	}
	before := aw.archive.Files
	rc, err := x.r.swarm.CopyFrom(ctx, stack, src.Service, src.ContainerPath())
	if err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	defer rc.Close()
	if err := aw.add(src.ArchivePath(stack), rc); err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	l.Printf("copied %s: %d files, into %s", src, aw.archive.Files-before, src.ArchivePath(stack))
	return nil
}

func describeSources(p backup.Plan) string {
	var parts []string
	for _, s := range p.Sources {
		parts = append(parts, s.String())
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func (x *execution) relPath(file string) string {
	if rel, err := filepath.Rel(x.req.RunDir, file); err == nil {
		return rel
	}
	return file
}
