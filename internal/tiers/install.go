package tiers

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// observeTimeout bounds a diagnostic observation made after a failure.
const observeTimeout = 10 * time.Second

// runInstall deploys the candidate on a fresh main stack and checks it converged at the
// candidate's version. The stack stays for custom, backup and restore.
func (x *execution) runInstall(ctx context.Context, l *tierLog) (string, error) {
	if x.missingImage != nil {
		// Resolution found it before anything was deployed: nothing to wait for.
		return "", x.missingImage
	}
	st, err := x.deploy(ctx, l, x.cand, StackMain)
	if err != nil {
		return "", err
	}
	want := expectedVersion(x.cand, st)
	if err := x.checkVersion(ctx, l, st.Name, want); err != nil {
		return "", err
	}
	x.main = st
	return fmt.Sprintf("stack %s converged at %s", st.Name, want), nil
}

// runUpgrade deploys the base version on the upgrade stack, waits, writes a marker into the app's
// volume, deploys the candidate over the same stack and volumes, waits, and checks the version
// label is now the candidate's and the marker is still there.
func (x *execution) runUpgrade(ctx context.Context, l *tierLog) (string, error) {
	if x.base == nil {
		return "", fmt.Errorf("no base version to upgrade from")
	}
	st, err := x.deploy(ctx, l, x.base, StackUpgrade)
	if err != nil {
		return "", fmt.Errorf("base %s: %w", x.base.tag, err)
	}
	if err := x.checkVersion(ctx, l, st.Name, x.base.tag); err != nil {
		return "", fmt.Errorf("base %s: %w", x.base.tag, err)
	}
	// A marker in the app's data must survive the upgrade: the upgrade keeps the data.
	m, hasData := x.upgradeMarker(st)
	text := x.markerText(v1.TierUpgrade)
	if hasData {
		if err := x.writeMarker(ctx, l, st.Name, m, text); err != nil {
			return "", fmt.Errorf("base %s: %w", x.base.tag, err)
		}
	} else {
		l.Printf("no marker: neither spec.marker, nor a backup plan with a whole volume, nor a volume of service %s", appService)
	}
	before, err := x.r.swarm.ObserveStack(ctx, st.Name)
	if err != nil {
		return "", fmt.Errorf("observe stack %s before the upgrade: %w", st.Name, err)
	}
	l.Printf("upgrading stack %s from %s to %s", st.Name, x.base.tag, x.cand.label())
	st, err = x.deploy(ctx, l, x.cand, StackUpgrade)
	if err != nil {
		return "", fmt.Errorf("upgrade to %s: %w", x.cand.label(), err)
	}
	after, err := x.r.swarm.ObserveStack(ctx, st.Name)
	if err != nil {
		return "", fmt.Errorf("observe stack %s after the upgrade: %w", st.Name, err)
	}
	if err := movedAway(before, after); err != nil {
		return "", err
	}
	want := expectedVersion(x.cand, st)
	if err := x.checkVersion(ctx, l, st.Name, want); err != nil {
		return "", fmt.Errorf("upgrade to %s: %w", x.cand.label(), err)
	}
	if !hasData {
		return fmt.Sprintf("upgraded from %s to %s", x.base.tag, want), nil
	}
	if err := x.checkMarker(ctx, l, st.Name, m, text); err != nil {
		return "", fmt.Errorf("upgrade to %s lost the app's data: %s: %w", want, m, err)
	}
	return fmt.Sprintf("upgraded from %s to %s, data of service %s kept", x.base.tag, want, m.Service), nil
}

// upgradeMarker picks where the upgrade tier checks that data survives: spec.marker, else the
// marker of the base's backup plan, else the first volume of the app service.
func (x *execution) upgradeMarker(st *swarm.Stack) (marker, bool) {
	if p, err := plannedBackup(st); err == nil || x.req.Spec.Marker != nil {
		if m, err := x.markerFor(p); err == nil {
			return m, true
		}
	}
	for _, s := range servicesOf(st) {
		if s.Name == appService && len(s.Mounts) > 0 {
			return marker{Service: s.Name, Dir: s.Mounts[0]}, true
		}
	}
	return marker{}, false
}

// swarmMoveError is a stateful task of a test stack that Swarm put on another node than its
// volume during a tier: the data is out of reach through no fault of the recipe, so the run is
// Aborted rather than judged.
type swarmMoveError struct{ msg string }

func (e *swarmMoveError) Error() string { return e.msg }

// movedAway returns a *swarmMoveError when a service with named volumes ran a single task on
// one node before and runs it on another after.
func movedAway(before, after swarm.StackState) error {
	was := map[string]swarm.ServiceState{}
	for _, s := range before.Services {
		was[s.Name] = s
	}
	var parts []string
	for _, s := range after.Services {
		b, ok := was[s.Name]
		if !ok || len(b.Volumes) == 0 || len(b.Nodes) != 1 || len(s.Nodes) != 1 || b.Nodes[0] == s.Nodes[0] {
			continue
		}
		parts = append(parts, fmt.Sprintf("service %s with volume %s moved from node %s to node %s", s.Name, strings.Join(b.Volumes, ", "), b.Nodes[0], s.Nodes[0]))
	}
	if len(parts) == 0 {
		return nil
	}
	return &swarmMoveError{msg: "data locality: " + strings.Join(parts, "; ") + ", where its volume is empty (keep test stacks on one node with spec.placement)"}
}
