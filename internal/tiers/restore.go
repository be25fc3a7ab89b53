package tiers

import (
	"context"
	"fmt"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/backup"
)

// runRestore proves a backup brings the app's data back, the way an operator restores one app:
// it writes a unique marker into the app's data, backs up, removes the main stack's services
// and volumes (keeping its secrets and configs, so the restored data still matches the
// passwords it was written with), deploys the candidate again, puts every file back into its
// volume between the restore pre- and post-hooks, waits for convergence and expects the marker
// back.
func (x *execution) runRestore(ctx context.Context, l *tierLog) (string, error) {
	st := x.main
	p, err := plannedBackup(st)
	if err != nil {
		return "", err
	}
	m, err := x.markerFor(p)
	if err != nil {
		return "", err
	}
	text := x.markerText(v1.TierRestore)
	if err := x.writeMarker(ctx, l, st.Name, m, text); err != nil {
		return "", err
	}
	a, err := x.backup(ctx, l, st.Name, p, string(v1.TierRestore))
	if err != nil {
		return "", err
	}

	l.Printf("removing the services and volumes of stack %s, keeping its secrets and configs", st.Name)
	if err := x.r.swarm.RemoveData(ctx, st.Name); err != nil {
		return "", fmt.Errorf("remove services and volumes of stack %s: %w", st.Name, err)
	}
	if _, err := x.deploy(ctx, l, x.cand, StackMain); err != nil {
		return "", fmt.Errorf("deploy again: %w", err)
	}
	if err := x.restore(ctx, l, st.Name, p, a.Path); err != nil {
		return "", err
	}
	if err := x.wait(ctx, l, st.Name); err != nil {
		return "", fmt.Errorf("after restore: %w", err)
	}
	if err := x.checkMarker(ctx, l, st.Name, m, text); err != nil {
		return "", fmt.Errorf("marker lost: %s did not come back after the restore of %s: %w", m, describeSources(p), err)
	}
	return fmt.Sprintf("marker restored from %s (sha256 %s)", x.relPath(a.Path), a.SHA256), nil
}

// restore puts every source of the archive back into its service's container between the
// restore pre- and post-hooks.
func (x *execution) restore(ctx context.Context, l *tierLog, stack string, p backup.Plan, archive string) error {
	if err := x.runHooks(ctx, l, stack, p, v1.LabelRestorePreHook); err != nil {
		return err
	}
	for _, src := range p.Sources {
		rc := sourceTar(archive, src.ArchivePath(stack), src.Rel)
		err := x.r.swarm.CopyTo(ctx, stack, src.Service, src.Base, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("restore %s: %w", src, err)
		}
		l.Printf("restored %s", src)
	}
	return x.runHooks(ctx, l, stack, p, v1.LabelRestorePostHook)
}
