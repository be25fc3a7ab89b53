package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// runArg returns the run id arg names, when it names a run (RUN or run/RUN) rather than an
// object (KIND/NAME).
func runArg(arg string) (string, bool) {
	if id, ok := strings.CutPrefix(arg, "run/"); ok {
		return id, id != ""
	}
	return arg, !strings.Contains(arg, "/")
}

// describeRun shows a test run: its record when this state directory has one, with whether a
// live process holds it; else what Swarm knows of it. A run of another set-up (another state
// directory or host) on the same engine is an error that names its owner, as logs does.
func describeRun(ctx context.Context, w io.Writer, s *stateView, id string) error {
	view := &controllers.View{Objects: s.objects, Store: s.store}
	recipeTest, run, err := view.Run(ctx, id)
	if err == nil {
		fmt.Fprintf(w, "Run:   %s\nRecipeTest: %s\n", id, recipeTest)
		if run.FinishedAt == nil {
			fmt.Fprintf(w, "State: %s\n", leaseState(s, id))
		}
		describeRuns(w, []v1.Run{run})
		return nil
	}
	if !errors.Is(err, server.ErrNotFound) {
		return err
	}
	owner, found, ownerErr := runOwner(ctx, id)
	host, herr := os.Hostname()
	switch {
	case ownerErr != nil:
		return &exitError{code: exitFailed, err: fmt.Errorf("run %q: no record in state directory %s, and Swarm could not be asked about it: %w", id, s.store.Dir(), ownerErr)}
	case !found:
		return &exitError{code: exitFailed, err: fmt.Errorf("run %q: no record in state directory %s, and nothing of it on Swarm (valid: a run id that get or trigger shows, or KIND/NAME such as wc/gitea)", id, s.store.Dir())}
	case herr != nil:
		return &exitError{code: exitFailed, err: fmt.Errorf("run %q: host name: %w", id, herr)}
	case owner != tiers.OwnerID(host, s.store.Dir()):
		return &exitError{code: exitFailed, err: foreignOwner(err, s.store.Dir(), owner, "describe")}
	}
	// Ours on Swarm but never recorded: a run another process of this state directory has
	// just started, or the leftover of a killed one.
	fmt.Fprintf(w, "Run:   %s\nState: %s; it has no record yet in state directory %s\n", id, leaseState(s, id), s.store.Dir())
	return nil
}

// leaseState says whether a live process holds the run's lease.
func leaseState(s *stateView, id string) string {
	held, err := s.store.LeaseHeld(id)
	switch {
	case err != nil:
		return fmt.Sprintf("unknown (%v)", err)
	case held:
		return "in progress: a live process of this state directory holds its lease"
	}
	return "not finished, and no live process holds it: a killed process left it, and the next run or trigger of this state directory removes its objects"
}

// runOwner asks Swarm for the owner label of a run's objects, within describe's bound.
func runOwner(ctx context.Context, id string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, describeLiveTimeout)
	defer cancel()
	sw, err := swarm.NewClient()
	if err != nil {
		return "", false, err
	}
	return sw.RunOwner(ctx, id)
}

// foreignOwner is the error about a run whose objects on Swarm belong to another set-up.
func foreignOwner(notFound error, stateDir, owner, command string) error {
	if owner == "" {
		owner = "unknown (made before owners were recorded)"
	}
	return fmt.Errorf("%w: not a run of state directory %s; its objects on Swarm belong to owner %s (valid: %s with that set-up's --state, or its --server)", notFound, stateDir, owner, command)
}
