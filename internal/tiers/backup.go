package tiers

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// runBackup writes a marker into the app's data, backs the main stack up the way backupbot
// would, and checks the archive holds the marker: a fresh app may have no data of its own, and
// an archive that is merely not empty would not show the backup caught the data.
func (x *execution) runBackup(ctx context.Context, l *tierLog) (string, error) {
	targets := backupTargets(servicesOf(x.main))
	if err := checkTargets(targets); err != nil {
		return "", err
	}
	marker := x.markerText(v1.TierBackup)
	if err := x.placeMarkers(ctx, l, x.main.Name, targets, marker); err != nil {
		return "", err
	}
	a, err := x.backup(ctx, l, x.main, string(v1.TierBackup))
	if err != nil {
		return "", err
	}
	for _, t := range targets {
		entry := t.Service + "/" + strings.TrimPrefix(path.Join(t.MarkerDir, markerFile), "/")
		got, err := archiveFile(a.Path, entry)
		if err != nil || got != marker {
			l.Printf("archive entry %s: %q, error %v", entry, got, err)
			return "", fmt.Errorf("archive %s misses the marker written into %s of service %s: backup paths %v do not cover the app's data", x.relPath(a.Path), t.MarkerDir, t.Service, t.Paths)
		}
	}
	return fmt.Sprintf("archive %s: %d files, %d bytes, sha256 %s", x.relPath(a.Path), a.Files, a.Size, a.SHA256), nil
}

// backup writes artifacts/<name>.tar.gz: for each service labelled backupbot.backup=true it
// runs the pre-hook in the service's container, copies the backup paths out, and runs the
// post-hook. An archive without a single file is an error. The sha256 is written next to the
// archive (<name>.tar.gz.sha256, in sha256sum's format) and returned.
func (x *execution) backup(ctx context.Context, l *tierLog, st *swarm.Stack, name string) (archiveInfo, error) {
	targets := backupTargets(servicesOf(st))
	if err := checkTargets(targets); err != nil {
		return archiveInfo{}, err
	}
	file := filepath.Join(x.req.RunDir, artifactsDir, name+".tar.gz")
	aw, err := createArchive(file)
	if err != nil {
		return archiveInfo{}, err
	}
	var paths []string
	for _, t := range targets {
		if err := x.backupService(ctx, l, st.Name, t, aw); err != nil {
			aw.abort()
			return archiveInfo{}, err
		}
		for _, p := range t.Paths {
			paths = append(paths, t.Service+":"+p)
		}
	}
	a, err := aw.close()
	if err != nil {
		return archiveInfo{}, err
	}
	l.Printf("archive %s: %d entries, %d files, %d bytes, sha256 %s", x.relPath(file), a.Entries, a.Files, a.Size, a.SHA256)
	if a.Files == 0 {
		return a, fmt.Errorf("archive %s holds no file: %s are empty", x.relPath(file), strings.Join(paths, ", "))
	}
	sum := fmt.Sprintf("%s  %s\n", a.SHA256, filepath.Base(file))
	if err := os.WriteFile(file+".sha256", []byte(sum), 0o644); err != nil {
		return a, fmt.Errorf("write checksum: %w", err)
	}
	return a, nil
}

// backupService saves one service's paths between its pre- and post-hook. The post-hook also
// runs when the copy failed, since it usually undoes what the pre-hook did (unlock a database).
func (x *execution) backupService(ctx context.Context, l *tierLog, stack string, t backupTarget, aw *archiveWriter) error {
	if err := x.hook(ctx, l, stack, t, v1.LabelBackupPreHook); err != nil {
		return err
	}
	copyErr := x.copyPaths(ctx, l, stack, t, aw)
	postErr := x.hook(ctx, l, stack, t, v1.LabelBackupPostHook)
	if copyErr != nil {
		return copyErr
	}
	return postErr
}

func (x *execution) copyPaths(ctx context.Context, l *tierLog, stack string, t backupTarget, aw *archiveWriter) error {
	for _, p := range t.Paths {
		before := aw.archive.Files
		rc, err := x.r.swarm.CopyFrom(ctx, stack, t.Service, p)
		if err != nil {
			return fmt.Errorf("copy %s from service %s: %w", p, t.Service, err)
		}
		err = aw.add(archivePrefix(t.Service, p), rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("copy %s from service %s: %w", p, t.Service, err)
		}
		l.Printf("copied %s from service %s: %d files", p, t.Service, aw.archive.Files-before)
	}
	return nil
}

// hook runs the backupbot hook labelled key of the target's service, if it has one, in a running
// container of the service. A non-zero exit fails with the hook's stderr.
func (x *execution) hook(ctx context.Context, l *tierLog, stack string, t backupTarget, key string) error {
	h, ok := t.Hooks[key]
	if !ok {
		return nil
	}
	argv := hookArgv(h)
	res, err := x.r.swarm.Exec(ctx, stack, t.Service, argv)
	if err != nil {
		return fmt.Errorf("run %s %q in service %s: %w", key, h, t.Service, err)
	}
	l.Printf("hook %s %q in service %s: exit code %d", key, h, t.Service, res.ExitCode)
	l.Block("stdout", res.Stdout)
	l.Block("stderr", res.Stderr)
	if res.ExitCode != 0 {
		return fmt.Errorf("%s %q in service %s exited with code %d: %s", key, h, t.Service, res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	return nil
}

func (x *execution) relPath(file string) string {
	if rel, err := filepath.Rel(x.req.RunDir, file); err == nil {
		return rel
	}
	return file
}
