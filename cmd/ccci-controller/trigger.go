package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
)

// triggerOptions are trigger's flags, defaulted from a Drone custom build's environment.
type triggerOptions struct {
	Ref    string
	PR     int
	Source string
	// JUnit is the file the run is written to as a JUnit report (--junit); empty: none.
	JUnit string
	// Output is how the run is printed: table or json (-o).
	Output string
}

func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func newTriggerCommand(g *globalOptions) *cobra.Command {
	o, r, t := &controllerOptions{}, &remoteOptions{}, &triggerOptions{}
	cmd := &cobra.Command{
		Use:   "trigger [recipetest/NAME] --ref REF [--pr N] [--src OWNER/REPO] [--junit FILE] [-o table|json]",
		Short: "Run the test tiers of a recipe for a ref and exit with the verdict (the Drone path)",
		Long: `Trigger runs the tiers of a RecipeTest for one ref (a tag, a branch or a commit; with --pr the
pull request's refs are fetched when the ref is not found) and prints the tier table. It only
tests: it never deploys or changes a warm app. Tiers are printed to stderr as they start and end.
With -o json the run record (verdict, tiers, times, commit) is printed instead of the table;
with --junit FILE the run is also written as a JUnit XML report, one testcase per tier, for the
test report pages of Jenkins, GitLab, Drone and Woodpecker (written for red and aborted runs too).

Defaults come from the environment of a Drone custom build: NAME from RECIPE, --ref from REF
or DRONE_COMMIT_SHA, --pr from PR or DRONE_PULL_REQUEST, --src from SRC or DRONE_REPO. The run
is recorded with trigger drone when a pull request or source is given or DRONE is set, manual
otherwise.

Exit status: 0 green, 1 red (or the run could not finish), 2 usage error.`,
		Example: `  ccci-controller trigger recipetest/gitea --ref 3.5.3+1.24.2
  ccci-controller trigger rt/gitea --ref 5f1c2e0 --pr 42 --src coop-cloud/gitea
  ccci-controller trigger rt/gitea --ref main --junit report.xml -o json
  RECIPE=gitea REF=main ccci-controller trigger --server http://127.0.0.1:8089 --token-file /run/ccci/token`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, req, err := t.request(args, os.Getenv)
			if err != nil {
				return err
			}
			if t.Output != outputTable && t.Output != outputJSON {
				return usageError(fmt.Errorf("invalid --output %q (valid: %s, %s)", t.Output, outputTable, outputJSON))
			}
			var run v1.Run
			var report junitSource
			if r.Server != "" {
				token, err := r.token()
				if err != nil {
					return usageError(err)
				}
				tr := server.Trigger{Action: server.ActionTest, Kind: v1.KindRecipeTest, Name: name, Ref: req.Ref, PR: req.PR, Source: req.SourceRepo, Wait: true}
				if err := server.Post(cmd.Context(), r.Server, token, tr, &run); err != nil {
					return err
				}
				report = remoteJUnit(&server.Client{BaseURL: r.Server, Token: token})
			} else {
				c, err := newController(cmd.Context(), g, o)
				if err != nil {
					return err
				}
				defer c.finish()
				if err := c.collectGarbage(cmd.Context()); err != nil {
					g.logger(cmd.Context()).Error(err, "Garbage collection failed")
				}
				c.printProgress(cmd.ErrOrStderr())
				// A run that could not start (a registry down while its images were resolved)
				// is recorded Aborted with the error: it is reported as aborted below.
				if run, err = c.test(cmd.Context(), name, req); err != nil && run.Verdict != v1.VerdictAborted {
					return err
				}
				report = localJUnit(c.view())
			}
			if err := t.writeJUnit(cmd.Context(), report, run.ID); err != nil {
				return err
			}
			if err := t.print(cmd.OutOrStdout(), name, run); err != nil {
				return err
			}
			if run.Verdict == v1.VerdictAborted {
				// Not a verdict on the recipe: say why on stderr, where Drone shows errors.
				return &exitError{code: exitFailed, err: fmt.Errorf("run %s of %s was aborted, not judged: %s", run.ID, name, run.Message)}
			}
			if run.Verdict != v1.VerdictPassed {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&t.Ref, "ref", firstEnv("REF", "DRONE_COMMIT_SHA"), "ref to test: tag, branch or commit (env REF, DRONE_COMMIT_SHA)")
	pr, _ := strconv.Atoi(firstEnv("PR", "DRONE_PULL_REQUEST"))
	cmd.Flags().IntVar(&t.PR, "pr", pr, "pull request number (env PR, DRONE_PULL_REQUEST)")
	cmd.Flags().StringVar(&t.Source, "src", firstEnv("SRC", "DRONE_REPO"), "repository OWNER/REPO the change came from (env SRC, DRONE_REPO)")
	cmd.Flags().StringVar(&t.JUnit, "junit", "", "also write the run as a JUnit XML report to this file")
	cmd.Flags().StringVarP(&t.Output, "output", "o", outputTable, "output format: table or json (the run record)")
	o.addFlags(cmd)
	r.addFlags(cmd)
	return cmd
}

// noEnv is the environment of a request the daemon received: none of its own.
func noEnv(string) string { return "" }

// request checks the arguments and builds the run request; getenv reads the environment of the
// process the request came to (Drone's RECIPE and DRONE), os.Getenv in the CLI.
func (t *triggerOptions) request(args []string, getenv func(string) string) (string, controllers.RunRequest, error) {
	name := getenv("RECIPE")
	if len(args) == 1 {
		k, err := parseObjectRef(args[0])
		if err != nil {
			return "", controllers.RunRequest{}, err
		}
		if k.Kind != v1.KindRecipeTest {
			return "", controllers.RunRequest{}, usageError(fmt.Errorf("trigger tests a RecipeTest, not a %s (valid: recipetest/NAME)", k.Kind))
		}
		name = k.Name
	}
	if name == "" {
		return "", controllers.RunRequest{}, usageError(errors.New("no RecipeTest given (valid: recipetest/NAME, or RECIPE in the environment)"))
	}
	if t.Ref == "" && t.PR == 0 {
		return "", controllers.RunRequest{}, usageError(errors.New("no ref given (valid: --ref REF or --pr N, or REF, DRONE_COMMIT_SHA, PR in the environment)"))
	}
	if t.PR < 0 {
		return "", controllers.RunRequest{}, usageError(fmt.Errorf("invalid --pr %d (valid: a pull request number)", t.PR))
	}
	trigger := v1.TriggerManual
	if t.PR > 0 || t.Source != "" || getenv("DRONE") != "" {
		trigger = v1.TriggerDrone
	}
	return name, controllers.RunRequest{RecipeTest: name, Ref: t.Ref, PR: t.PR, SourceRepo: t.Source, Trigger: trigger}, nil
}

// test runs the tiers for req and waits. The upgrade base is the known-good version of the warm
// app gated by this RecipeTest, if there is one.
func (c *controller) test(ctx context.Context, name string, req controllers.RunRequest) (v1.Run, error) {
	obj, err := c.objects.Get(v1.KindRecipeTest, name)
	if err != nil {
		return v1.Run{}, err
	}
	if obj == nil {
		return v1.Run{}, fmt.Errorf("RecipeTest %q: %w (valid: one of the RecipeTests in %s)", name, server.ErrNotFound, c.objects.Root)
	}
	req.KnownGood = c.knownGood(name)
	// A trigger tests the ref as the forge has it now, whatever was fetched a moment ago.
	c.recipes.BeginPass()
	id, err := c.pool.Start(req)
	if err != nil {
		return v1.Run{}, err
	}
	return c.pool.Wait(ctx, name, id)
}

func (c *controller) knownGood(recipeTest string) string {
	for _, n := range controllers.GatedBy(c.objects, recipeTest) {
		var st v1.WarmCanonicalStatus
		if found, _ := c.store.Get(v1.KindWarmCanonical, n, &st); found && st.KnownGoodVersion != "" {
			return st.KnownGoodVersion
		}
	}
	return ""
}

// printRun prints the tier table of a run and its verdict.
func printRun(w io.Writer, name string, run v1.Run) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIER\tRESULT\tDURATION\tREASON")
	for _, t := range run.Tiers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Result, t.Duration, oneLine(t.Reason))
	}
	_ = tw.Flush()
	version := run.Version
	if version == "" {
		version = run.Ref
	}
	fmt.Fprintf(w, "%s %s (commit %s, run %s): %s", name, orDash(version), orDash(short(run.Commit)), run.ID, run.Verdict)
	if run.Message != "" && run.Verdict != v1.VerdictPassed {
		fmt.Fprintf(w, ": %s", oneLine(run.Message))
	}
	fmt.Fprintln(w)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
