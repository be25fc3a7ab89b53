package tiers

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// markerFile is the file the backup, restore and upgrade tiers write into the app's data and
// expect to find again.
const markerFile = ".ccci-marker"

// markerText is a marker's content, unique to the run and the moment.
func (x *execution) markerText(tier v1.TierName) string {
	return fmt.Sprintf("ccci %s marker of run %s written %s", tier, x.req.RunID, time.Now().UTC().Format(time.RFC3339Nano))
}

// placeMarkers writes the marker into the data of every backup target.
func (x *execution) placeMarkers(ctx context.Context, l *tierLog, stack string, targets []backupTarget, marker string) error {
	for _, t := range targets {
		if err := x.writeMarker(ctx, stack, t, marker); err != nil {
			return err
		}
		l.Printf("wrote marker %s into service %s", path.Join(t.MarkerDir, markerFile), t.Service)
	}
	return nil
}

// runRestore proves a backup brings the app's data back: it writes a unique marker into the
// data of every backed-up service, backs up, removes the main stack with its volumes, deploys
// the candidate again, copies the archive back in between the restore hooks, waits for
// convergence, and expects every marker back.
func (x *execution) runRestore(ctx context.Context, l *tierLog) (string, error) {
	st := x.main
	targets := backupTargets(servicesOf(st))
	if err := checkTargets(targets); err != nil {
		return "", err
	}
	marker := x.markerText(v1.TierRestore)
	if err := x.placeMarkers(ctx, l, st.Name, targets, marker); err != nil {
		return "", err
	}
	a, err := x.backup(ctx, l, st, string(v1.TierRestore))
	if err != nil {
		return "", err
	}

	l.Printf("removing stack %s with its volumes", st.Name)
	if err := x.r.swarm.Remove(ctx, st.Name, true); err != nil {
		return "", fmt.Errorf("remove stack %s: %w", st.Name, err)
	}
	if _, err := x.deploy(ctx, l, x.cand, StackMain); err != nil {
		return "", fmt.Errorf("deploy again: %w", err)
	}
	for _, t := range targets {
		if err := x.restoreService(ctx, l, st.Name, t, a.Path); err != nil {
			return "", err
		}
	}
	if err := x.wait(ctx, l, st.Name); err != nil {
		return "", fmt.Errorf("after restore: %w", err)
	}
	for _, t := range targets {
		got, err := x.readMarker(ctx, st.Name, t)
		if err != nil || got != marker {
			l.Printf("marker in service %s: %q, error %v", t.Service, got, err)
			return "", fmt.Errorf("marker lost: %s in service %s did not come back (backed up: %v)", path.Join(t.MarkerDir, markerFile), t.Service, t.Paths)
		}
		l.Printf("marker back in service %s", t.Service)
	}
	return fmt.Sprintf("marker restored from %s (sha256 %s)", x.relPath(a.Path), a.SHA256), nil
}

// restoreService copies one service's part of the archive back, between its restore hooks.
func (x *execution) restoreService(ctx context.Context, l *tierLog, stack string, t backupTarget, archive string) error {
	if err := x.hook(ctx, l, stack, t, v1.LabelRestorePreHook); err != nil {
		return err
	}
	rc := serviceTar(archive, t.Service)
	err := x.r.swarm.CopyTo(ctx, stack, t.Service, "/", rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("restore into service %s: %w", t.Service, err)
	}
	l.Printf("restored %v into service %s", t.Paths, t.Service)
	return x.hook(ctx, l, stack, t, v1.LabelRestorePostHook)
}

func (x *execution) writeMarker(ctx context.Context, stack string, t backupTarget, marker string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: markerFile, Mode: 0o644, Size: int64(len(marker)), ModTime: time.Now(), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if _, err := tw.Write([]byte(marker)); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if err := x.r.swarm.CopyTo(ctx, stack, t.Service, t.MarkerDir, &buf); err != nil {
		return fmt.Errorf("write marker into %s of service %s: %w", t.MarkerDir, t.Service, err)
	}
	return nil
}

func (x *execution) readMarker(ctx context.Context, stack string, t backupTarget) (string, error) {
	rc, err := x.r.swarm.CopyFrom(ctx, stack, t.Service, path.Join(t.MarkerDir, markerFile))
	if err != nil {
		return "", err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", errors.New("no marker file in the copy")
		}
		if err != nil {
			return "", err
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(io.LimitReader(tr, 4096))
			return string(data), err
		}
	}
}
