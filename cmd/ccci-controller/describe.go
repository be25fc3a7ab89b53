package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

func newDescribeCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "describe KIND/NAME|RUN",
		Short: "Show one object: spec, conditions, versions, promotions and recent runs per tier; or one test run",
		Long: `Describe shows one object (KIND/NAME) from the resources and state directories, or one test run
(RUN or run/RUN): its tiers and images, and, while it is not finished, whether a live process
holds it. A run that another set-up (another state directory or host) has on the same engine is
named with its owner.`,
		Example: `  ccci-controller describe wc/gitea
  ccci-controller describe recipetest/gitea
  ccci-controller describe 3f2a9c1b7d4e`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openState(g)
			if err != nil {
				return err
			}
			if id, ok := runArg(args[0]); ok {
				return describeRun(cmd.Context(), cmd.OutOrStdout(), s, id)
			}
			k, err := parseObjectRef(args[0])
			if err != nil {
				return err
			}
			v, found, err := s.view(k.Kind, k.Name)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if st, ok := v.Status.(v1.WarmCanonicalStatus); ok && !found {
				// Forgetting is not undeploying: say what still runs.
				fmt.Fprintf(w, "Name:  %s\nKind:  %s\nRemoved: no resource file in %s defines it; it is forgotten, not undeployed\n", k.Name, k.Kind, g.Resources)
				fmt.Fprintf(w, "  Its stack was left running %s; remove it with docker stack rm if that is meant\n", orDash(st.DeployedVersion))
				describeConditions(w, st.Conditions)
				return nil
			}
			if !found {
				return &exitError{code: exitFailed, err: fmt.Errorf("%s %q not found in %s", k.Kind, k.Name, g.Resources)}
			}
			fmt.Fprintf(w, "Name:  %s\nKind:  %s\n", k.Name, k.Kind)
			for _, e := range v.Errors {
				fmt.Fprintf(w, "Error: %s\n", e)
			}
			if v.Spec != nil {
				b, _ := yaml.Marshal(v.Spec)
				fmt.Fprintf(w, "Spec:\n%s", indent(string(b), "  "))
			}
			switch st := v.Status.(type) {
			case v1.WarmCanonicalStatus:
				spec, _ := v.Spec.(v1.WarmCanonicalSpec)
				describeWarmCanonical(w, s, k.Name, st, spec)
				describeDependencies(w, s, spec)
				describeServices(cmd.Context(), w, spec.Stack, st)
			case v1.RecipeTestStatus:
				describeConditions(w, st.Conditions)
				describeRuns(w, st.Runs)
			default:
				fmt.Fprintln(w, "Status: never reconciled")
			}
			return nil
		},
	}
}

func describeWarmCanonical(w io.Writer, s *stateView, name string, st v1.WarmCanonicalStatus, spec v1.WarmCanonicalSpec) {
	fmt.Fprintf(w, "Versions:\n  Desired:         %s\n  Deployed:        %s\n  Known-good:      %s\n  Last attempted:  %s\n",
		orDash(st.DesiredVersion), orDash(st.DeployedVersion), orDash(st.KnownGoodVersion), orDash(st.LastAttemptedVersion))
	if len(st.FailedVersions) > 0 {
		fmt.Fprintf(w, "  Failed:          %s (not retried until the spec changes or reconcile --force)\n", strings.Join(st.FailedVersions, ", "))
	}
	describeEnv(w, s, name, st, spec)
	describeSuspension(w, s.store, name)
	describeConditions(w, st.Conditions)
	ps, _ := controllers.Promotions(s.store, name)
	if len(ps) > 0 {
		fmt.Fprintln(w, "Promotions:")
		for _, p := range ps {
			fmt.Fprintf(w, "  %s  %s → %s  %s\n", p.StartedAt.Format("2006-01-02 15:04:05"), orDash(p.From), p.To, p.State)
		}
	}
}

// describeEnv says whether the running version converged with the current spec.env, naming
// the keys an APPLY would change (never their values: env may hold credentials).
func describeEnv(w io.Writer, s *stateView, name string, st v1.WarmCanonicalStatus, spec v1.WarmCanonicalSpec) {
	keys, recorded, err := controllers.ChangedEnv(s.store, name, st.DeployedVersion, spec.Env)
	switch {
	case err != nil:
		fmt.Fprintf(w, "  Env:             unknown (%v)\n", err)
	case !recorded:
		return
	case len(keys) == 0:
		fmt.Fprintf(w, "  Env:             %s converged with the current spec.env\n", st.DeployedVersion)
	default:
		fmt.Fprintf(w, "  Env:             spec.env changed since %s converged: %s (the next reconcile applies it unless it failed under this spec)\n",
			st.DeployedVersion, strings.Join(keys, ", "))
	}
}

// describeDependencies shows spec.dependsOn with each dependency's Ready condition.
func describeDependencies(w io.Writer, s *stateView, spec v1.WarmCanonicalSpec) {
	if len(spec.DependsOn) == 0 {
		return
	}
	fmt.Fprintln(w, "Depends on:")
	for _, d := range spec.DependsOn {
		var st v1.WarmCanonicalStatus
		found, err := s.store.Get(v1.KindWarmCanonical, d, &st)
		r, ok := st.Conditions.Get(v1.ConditionReady)
		switch {
		case err != nil:
			fmt.Fprintf(w, "  %-24s status unreadable: %v\n", d, err)
		case !found || !ok:
			fmt.Fprintf(w, "  %-24s never reconciled\n", d)
		default:
			fmt.Fprintf(w, "  %-24s Ready=%s %s\n", d, r.Status, r.Reason)
		}
	}
}

// describeLiveTimeout bounds describe's look at Swarm: describe works from the state
// directory, and says so when the engine does not answer.
const describeLiveTimeout = 5 * time.Second

// describeServices shows the live services of the warm stack as Swarm reports them now: tasks,
// the node each runs on and, for a service with node-local volumes, the node its data is on.
func describeServices(ctx context.Context, w io.Writer, stack string, st v1.WarmCanonicalStatus) {
	if stack == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, describeLiveTimeout)
	defer cancel()
	sw, err := swarm.NewClient()
	var state swarm.StackState
	if err == nil {
		state, err = sw.ObserveStack(ctx, stack)
	}
	if err != nil {
		fmt.Fprintf(w, "Services: Swarm not reachable (%v)\n", err)
		return
	}
	if len(state.Services) == 0 {
		fmt.Fprintf(w, "Services: stack %s has no service\n", stack)
		return
	}
	nodes, _ := sw.Nodes(ctx)
	name := func(id string) string {
		if n, ok := nodes[id]; ok {
			return n.Hostname
		}
		return id
	}
	fmt.Fprintln(w, "Services:")
	for _, svc := range state.Services {
		var on []string
		for _, id := range svc.Nodes {
			on = append(on, name(id))
		}
		line := fmt.Sprintf("  %-32s %d/%d running  node %s", svc.Name, svc.Running, svc.Desired, orDash(strings.Join(on, ",")))
		if len(svc.Volumes) > 0 {
			line += "  volumes " + strings.Join(svc.Volumes, ",")
			if id, ok := st.DataNodes[svc.Name]; ok {
				line += "  data on " + name(id)
			}
		}
		fmt.Fprintln(w, line)
	}
}

func describeConditions(w io.Writer, conds v1.Conditions) {
	if len(conds) == 0 {
		return
	}
	fmt.Fprintln(w, "Conditions:")
	for _, c := range conds {
		fmt.Fprintf(w, "  %-12s %-7s %-20s %s (since %s)\n", c.Type, c.Status, c.Reason, c.Message, c.LastTransitionTime.Format("2006-01-02 15:04:05"))
	}
}

func describeRuns(w io.Writer, runs []v1.Run) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "Runs: none")
		return
	}
	fmt.Fprintln(w, "Runs:")
	for i, r := range runs {
		if i == 5 {
			fmt.Fprintf(w, "  ... %d older runs (get -o yaml shows them)\n", len(runs)-5)
			break
		}
		pr := ""
		if r.PR > 0 {
			pr = fmt.Sprintf(" pr %d", r.PR)
		}
		if r.SourceRepo != "" {
			pr += " from " + r.SourceRepo
		}
		if r.Trust != "" {
			pr += " (" + string(r.Trust) + ")"
		}
		fmt.Fprintf(w, "  %s  %s  %s  ref %s%s  trigger %s  %s", r.ID, r.StartedAt.Format("2006-01-02 15:04:05"), orDash(r.Version), orDash(r.Ref), pr, r.Trigger, r.Verdict)
		if r.Message != "" && r.Verdict != v1.VerdictPassed {
			fmt.Fprintf(w, ": %s", oneLine(r.Message))
		}
		fmt.Fprintln(w)
		for _, t := range r.Tiers {
			fmt.Fprintf(w, "    %-8s %-13s %-8s %s\n", t.Name, t.Result, t.Duration, oneLine(t.Reason))
		}
		for _, img := range r.Images {
			id := img.Digest
			if id == "" {
				id = "local image " + img.ID + " (by tag)"
			}
			fmt.Fprintf(w, "    image %s/%s: %s %s\n", img.Role, img.Service, img.Image, id)
		}
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
