package tiers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// CollectGarbage removes, with volumes, secrets and configs, every stack that carries the run
// label (and all of Options.Labels) and is not owned by a run of this process: what a crashed
// or killed process left behind. Call it at start-up, before runs begin.
func (r *Runner) CollectGarbage(ctx context.Context) error {
	log := logr.FromContextOrDiscard(ctx)
	stacks, err := r.swarm.StacksWithLabel(ctx, v1.LabelRun, "")
	if err != nil {
		return fmt.Errorf("list run stacks: %w", err)
	}
	for k, v := range r.opts.Labels {
		scoped, err := r.swarm.StacksWithLabel(ctx, k, v)
		if err != nil {
			return fmt.Errorf("list stacks labelled %s=%s: %w", k, v, err)
		}
		stacks = slices.DeleteFunc(stacks, func(s string) bool { return !slices.Contains(scoped, s) })
	}
	var errs []error
	for _, s := range stacks {
		if r.isActive(s) {
			continue
		}
		if err := r.swarm.Remove(ctx, s, true); err != nil {
			errs = append(errs, fmt.Errorf("remove leftover stack %s: %w", s, err))
			continue
		}
		log.Info("Removed leftover test stack", "stack", s)
	}
	return errors.Join(errs...)
}
