package tiers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/go-logr/logr"
)

// OwnerID is the owner of the objects a process creates for its runs (v1.LabelOwner): the host
// and a digest of the state directory's absolute path. It is stable across restarts, so the
// next start of the same set-up knows a killed run's leftovers as its own, and differs between
// state directories, so two set-ups on one engine never take each other's objects.
func OwnerID(host, stateDir string) string {
	sum := sha256.Sum256([]byte(host + "\x00" + stateDir))
	return host + "-" + hex.EncodeToString(sum[:])[:12]
}

// CollectGarbage removes, with volumes, secrets and configs, the stacks of every run that
// carries all of Options.Labels (the owner among them) and that no live process holds: not a
// run of this process, nor one whose lease another process holds (Options.Leases). That is
// what a crashed or killed process left behind; a run in progress elsewhere, or another state
// directory's, is never touched. Call it at start-up, before runs begin.
func (r *Runner) CollectGarbage(ctx context.Context) error {
	log := logr.FromContextOrDiscard(ctx)
	runs, err := r.swarm.RunStacks(ctx, r.opts.Labels)
	if err != nil {
		return fmt.Errorf("list run stacks: %w", err)
	}
	var errs []error
	removed, kept := 0, 0
	for _, run := range slices.Sorted(maps.Keys(runs)) {
		stacks := runs[run]
		live, err := r.live(run, stacks)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if live {
			kept++
			log.V(1).Info("Kept the stacks of a live run", "run", run, "stacks", stacks)
			continue
		}
		for _, s := range stacks {
			if err := r.swarm.Remove(ctx, s, true); err != nil {
				errs = append(errs, fmt.Errorf("remove leftover stack %s: %w", s, err))
				continue
			}
			removed++
			log.Info("Removed leftover test stack", "stack", s, "run", run)
		}
	}
	log.Info("Collected garbage", "removedStacks", removed, "liveRuns", kept)
	return errors.Join(errs...)
}

// live reports whether a process still holds run: this one, or one holding its lease.
func (r *Runner) live(run string, stacks []string) (bool, error) {
	if slices.ContainsFunc(stacks, r.isActive) {
		return true, nil
	}
	if r.opts.Leases == nil {
		return false, nil
	}
	held, err := r.opts.Leases.LeaseHeld(run)
	if err != nil {
		return false, fmt.Errorf("test the lease of run %s: %w", run, err)
	}
	return held, nil
}

// holdLease takes the run's lease for as long as it has objects on Swarm.
func (r *Runner) holdLease(run string) (release func(), err error) {
	if r.opts.Leases == nil {
		return func() {}, nil
	}
	release, err = r.opts.Leases.HoldLease(run)
	if err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	return release, nil
}
