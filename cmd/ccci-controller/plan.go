package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

func newPlanCommand(g *globalOptions) *cobra.Command {
	r := &remoteOptions{}
	var all bool
	cmd := &cobra.Command{
		Use:   "plan [warmcanonical/NAME...|--all]",
		Short: "Print what the next reconcile of each WarmCanonical would do, without doing it",
		Long: `Plan runs the same decision as a reconcile — load, resolve the desired version, observe the stack,
look at the test gate — and prints it instead of carrying it out. Nothing is written to Swarm or
to the state directory (resolving "latest" may fetch the recipe's tags into its cache).

  SKIP                  suspended, or data mode with nothing running
  CONVERGED             already runs the desired version: the reconcile writes nothing
  TEST x                x has no passed run yet: a test run starts
  WAIT x                a test run of x is in progress
  PROMOTE x→y           y passed its tests: the warm app is deployed at y
  APPLY x (env changed) x runs, but spec.env was edited since it converged: x is deployed
                        again with the new env (no test run; the tiers never see spec.env)
  HELD x→y              a MAJOR bump waits for spec.allowMajor
  FAILED                the desired version failed under this spec (reconcile --force retries)
  ROLLBACK y→x          a failed promotion is rolled back to known-good x
  ROLLBACK x (previous env)  a failed APPLY is rolled back to the env x last converged with
  UNDEPLOY              data mode: the services are removed, the volumes kept
  DRIFTED x (svc: [fields])  a hand edit changed live services (spec.drift: report): reported,
                        nothing written
  CORRECT x (svc: [fields])  the same with spec.drift: correct: the applied spec of x is
                        deployed again, an update of the drifted services only
  STALLED               a stateful task is away from its data, or no node satisfies a
                        placement constraint (Unschedulable): nothing is deployed

Without arguments, or with --all, every WarmCanonical is planned. A plan made beside a running
daemon sees that daemon's test runs as records only; --server asks the daemon for its own view.

Exit status: 0 when every object could be planned, 1 otherwise, 2 on usage errors.`,
		Example: `  ccci-controller plan
  ccci-controller plan wc/gitea
  ccci-controller plan --all --server http://127.0.0.1:8089`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 0 {
				return usageError(fmt.Errorf("give objects or --all, not both"))
			}
			var names []string
			for _, a := range args {
				k, err := parseObjectRef(a)
				if err != nil {
					return err
				}
				if k.Kind != v1.KindWarmCanonical {
					return usageError(fmt.Errorf("cannot plan %s (valid: warmcanonical/NAME; a RecipeTest runs when a trigger or a WarmCanonical asks)", a))
				}
				names = append(names, k.Name)
			}
			planner, err := planner(cmd.Context(), g, r)
			if err != nil {
				return err
			}
			lines, err := planner.Plan(cmd.Context(), names)
			if err != nil {
				return err
			}
			if printPlan(cmd.OutOrStdout(), cmd.ErrOrStderr(), lines) {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "plan every WarmCanonical (the default without arguments)")
	r.addFlags(cmd)
	return cmd
}

// planner is the daemon with --server, else this process.
func planner(ctx context.Context, g *globalOptions, r *remoteOptions) (server.Planner, error) {
	if r.Server != "" {
		return r.client()
	}
	// plan has no engine flags of its own: the defaults the other commands' flags have.
	return newController(ctx, g, &controllerOptions{MaxRuns: 1, Deadlines: swarm.Deadlines{Read: swarm.DefaultReadTimeout, Write: swarm.DefaultWriteTimeout}})
}

const planFormat = "%-24s %-20s %-20s %-44s %-22s %s\n"

// printPlan prints the plan table and reports whether an object could not be planned.
func printPlan(out, errOut io.Writer, lines []server.PlanLine) (failed bool) {
	fmt.Fprintf(out, planFormat, "NAME", "DEPLOYED", "DESIRED", "PLAN", "REASON", "DEPENDS-ON")
	for _, l := range lines {
		plan := l.Plan
		if l.Error != "" {
			plan, failed = "ERROR", true
		}
		fmt.Fprintf(out, planFormat, l.Name, orDash(l.Deployed), orDash(l.Desired), plan, orDash(l.Reason), orDash(strings.Join(l.DependsOn, ",")))
		switch {
		case l.Error != "":
			fmt.Fprintf(errOut, "%s: %s\n", l.Name, l.Error)
		case l.Message != "" && l.Action != "CONVERGED":
			fmt.Fprintf(errOut, "%s: %s\n", l.Name, l.Message)
		}
	}
	return failed
}

// client returns the API client of --server.
func (o *remoteOptions) client() (*server.Client, error) {
	token, err := o.token()
	if err != nil {
		return nil, usageError(err)
	}
	return &server.Client{BaseURL: o.Server, Token: token}, nil
}

// usageArgs makes an argument-count error a usage error (exit 2).
func usageArgs(f cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}
