package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/reconcile"
)

func newReconcileCommand(g *globalOptions) *cobra.Command {
	o, r := &controllerOptions{}, &remoteOptions{}
	var force bool
	cmd := &cobra.Command{
		Use:   "reconcile KIND/NAME...",
		Short: "Reconcile objects now, to completion",
		Long: `Reconcile reconciles each object once, now, the way the daemon would, and waits for the result:
a test run a WarmCanonical's promotion needs is run and awaited. KIND is recipetest (rt) or
warmcanonical (wc), plurals accepted. It prints one line per object like sweep.

--force retries a version that failed under the current spec (tests or promotion).

Exit status: 0 when nothing failed, 1 otherwise, 2 on usage errors.`,
		Example: `  ccci-controller reconcile wc/gitea
  ccci-controller reconcile wc/gitea --force
  ccci-controller reconcile wc/gitea --server http://127.0.0.1:8089`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var keys []v1.Key
			for _, a := range args {
				k, err := parseObjectRef(a)
				if err != nil {
					return err
				}
				keys = append(keys, k)
			}
			out := cmd.OutOrStdout()
			var lines []sweepLine
			if r.Server != "" {
				token, err := r.token()
				if err != nil {
					return usageError(err)
				}
				for _, k := range keys {
					var l sweepLine
					t := server.Trigger{Action: server.ActionReconcile, Kind: k.Kind, Name: k.Name, Force: force, Wait: true}
					if err := server.Post(cmd.Context(), r.Server, token, t, &l); err != nil {
						return err
					}
					lines = append(lines, l)
				}
			} else {
				c, err := newController(cmd.Context(), g, o)
				if err != nil {
					return err
				}
				defer c.finish()
				c.printProgress(cmd.ErrOrStderr())
				for _, k := range keys {
					lines = append(lines, c.reconcileNow(cmd.Context(), k, force))
				}
			}
			printSweepHeader(out)
			failed := false
			for _, l := range lines {
				printSweepLine(out, cmd.ErrOrStderr(), l)
				failed = failed || l.Failed
			}
			if failed {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "retry a version that failed under the current spec")
	o.addFlags(cmd)
	r.addFlags(cmd)
	return cmd
}

// reconcileNow reconciles one object to completion and describes the result as a sweep line.
func (c *controller) reconcileNow(ctx context.Context, k v1.Key, force bool) sweepLine {
	start := time.Now()
	c.recipes.BeginPass()
	if k.Kind == v1.KindWarmCanonical {
		out, err := c.wc.Converge(ctx, k.Name, force)
		return toSweepLine(controllers.SweepLine{Outcome: out, Duration: time.Since(start), Err: err})
	}
	_, err := c.rt.Reconcile(ctx, reconcile.Request{Kind: k.Kind, Name: k.Name})
	return c.recipeTestLine(k.Name, start, err)
}

// recipeTestLine describes a RecipeTest's status as a sweep line.
func (c *controller) recipeTestLine(name string, start time.Time, err error) sweepLine {
	st, serr := controllers.RecipeTestStatusOf(c.store, name)
	l := sweepLine{Name: name, Action: "RECONCILED", Seconds: time.Since(start).Seconds()}
	if serr == nil {
		if ready, ok := st.Conditions.Get(v1.ConditionReady); ok {
			l.Action, l.Message = ready.Reason, ready.Message
			l.Failed = ready.Status == v1.ConditionFalse && ready.Reason != v1.ReasonTesting
		}
		if len(st.Runs) > 0 {
			l.Desired = st.Runs[0].Version
		}
	}
	if err != nil {
		l.Action, l.Message, l.Failed = string(controllers.ResultInvalid), fmt.Sprint(err), true
	}
	return l
}

// awaitRecipeTestPoll is how often a waiting trigger looks for its acknowledgement.
const awaitRecipeTestPoll = 50 * time.Millisecond

// awaitRecipeTest waits until the RecipeTest's status acknowledges token (a RecipeTest's
// reconcile only rewrites status, so it settles at once) and describes it.
func (c *controller) awaitRecipeTest(ctx context.Context, name, token string, start time.Time) (sweepLine, error) {
	t := time.NewTicker(awaitRecipeTestPoll)
	defer t.Stop()
	for {
		if st, err := controllers.RecipeTestStatusOf(c.store, name); err == nil && handledSince(st.LastHandledReconcileAt, token) {
			return c.recipeTestLine(name, start, nil), nil
		}
		select {
		case <-ctx.Done():
			return sweepLine{}, fmt.Errorf("wait for RecipeTest %q to handle the trigger: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// handledSince reports whether the acknowledged token is token or, both being the server's
// timestamps, a later trigger's (which the same reconcile handled, as acks keep only the last
// in status).
func handledSince(acknowledged, token string) bool {
	if acknowledged == token {
		return true
	}
	a, aerr := time.Parse(time.RFC3339Nano, acknowledged)
	t, terr := time.Parse(time.RFC3339Nano, token)
	return aerr == nil && terr == nil && !a.Before(t)
}
