package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// runLogs is where logs reads runs and their logs: the state directory or the daemon.
type runLogs interface {
	Run(ctx context.Context, id string) (string, v1.Run, error)
	Log(ctx context.Context, id string, tier v1.TierName) ([]byte, error)
	// RecipeTest returns a RecipeTest with its runs, newest first, for "logs rt/NAME".
	RecipeTest(ctx context.Context, name string) (server.RecipeTestView, error)
}

// localLogs reads runs from the state directory.
type localLogs struct{ *controllers.View }

func (l localLogs) RecipeTest(ctx context.Context, name string) (server.RecipeTestView, error) {
	rts, err := l.RecipeTests(ctx)
	if err != nil {
		return server.RecipeTestView{}, err
	}
	for _, rt := range rts {
		if rt.Name == name {
			return rt, nil
		}
	}
	return server.RecipeTestView{}, fmt.Errorf("RecipeTest %q: %w", name, server.ErrNotFound)
}

// runID returns arg when it is a run id, and the newest run of the RecipeTest when it is
// recipetest/NAME (rt/NAME): the README's "logs rt/sample" works without looking an id up.
func runID(ctx context.Context, src runLogs, arg string) (string, error) {
	if !strings.Contains(arg, "/") {
		return arg, nil
	}
	k, err := parseObjectRef(arg)
	if err != nil {
		return "", err
	}
	if k.Kind != v1.KindRecipeTest {
		return "", usageError(fmt.Errorf("logs shows runs of a RecipeTest, not of a %s (valid: RUN or recipetest/NAME)", k.Kind))
	}
	rt, err := src.RecipeTest(ctx, k.Name)
	if err != nil {
		return "", err
	}
	if len(rt.Status.Runs) == 0 {
		return "", fmt.Errorf("RecipeTest %s has no run yet", k.Name)
	}
	return rt.Status.Runs[0].ID, nil
}

func newLogsCommand(g *globalOptions) *cobra.Command {
	r := &remoteOptions{}
	cmd := &cobra.Command{
		Use:   "logs RUN|recipetest/NAME [TIER]",
		Short: "Print the logs of a test run, or of one of its tiers",
		Long: `Logs prints the log of each tier of a run (run ids are shown by get, describe, trigger and the
dashboard), each under a header with the tier's result and reason, or only the log of TIER.
Given recipetest/NAME (or rt/NAME) instead of a run id, it shows that RecipeTest's newest run.`,
		Example: `  ccci-controller logs 3f2a9c1b7d4e
  ccci-controller logs 3f2a9c1b7d4e upgrade --server http://127.0.0.1:8089
  ccci-controller logs rt/gitea install`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var src runLogs
			var st *store.Store
			if r.Server != "" {
				c, err := r.client()
				if err != nil {
					return err
				}
				src = c
			} else {
				var err error
				if st, err = store.Open(g.State); err != nil {
					return fmt.Errorf("open state directory: %w", err)
				}
				src = localLogs{&controllers.View{Objects: &controllers.Dir{Root: g.Resources}, Store: st}}
			}
			tier := ""
			if len(args) == 2 {
				tier = args[1]
			}
			id, err := runID(cmd.Context(), src, args[0])
			if err != nil {
				return err
			}
			err = printLogs(cmd.Context(), cmd.OutOrStdout(), src, id, tier)
			if st != nil && errors.Is(err, server.ErrNotFound) {
				return foreignRun(cmd.Context(), st, id, err)
			}
			return err
		},
	}
	r.addFlags(cmd)
	return cmd
}

// foreignRun names the owner of a run that is not in this state directory but has objects on
// Swarm: another state directory's, or another host's, run. It returns notFound unchanged
// when Swarm has nothing of the run or cannot be asked.
func foreignRun(ctx context.Context, st *store.Store, id string, notFound error) error {
	owner, found, err := runOwner(ctx, id)
	host, herr := os.Hostname()
	if err != nil || herr != nil || !found || owner == tiers.OwnerID(host, st.Dir()) {
		return notFound
	}
	return foreignOwner(notFound, st.Dir(), owner, "logs")
}

// printLogs prints the logs of run id, or of one tier of it.
func printLogs(ctx context.Context, w io.Writer, src runLogs, id, tier string) error {
	recipeTest, run, err := src.Run(ctx, id)
	if err != nil {
		return err
	}
	if tier != "" {
		for _, t := range run.Tiers {
			if string(t.Name) == tier {
				data, err := src.Log(ctx, id, t.Name)
				if err != nil {
					return err
				}
				_, err = w.Write(data)
				return err
			}
		}
		var names []string
		for _, t := range run.Tiers {
			names = append(names, string(t.Name))
		}
		return usageError(fmt.Errorf("run %s of RecipeTest %s has no tier %q (valid: %v)", id, recipeTest, tier, names))
	}
	fmt.Fprintf(w, "run %s of RecipeTest %s: %s %s\n", id, recipeTest, run.Verdict, run.Version)
	for _, t := range run.Tiers {
		head := fmt.Sprintf("==> %s: %s", t.Name, t.Result)
		if t.Reason != "" {
			head += " (" + t.Reason + ")"
		}
		fmt.Fprintln(w, head+" <==")
		if t.LogFile == "" {
			fmt.Fprintln(w, "(no log)")
			continue
		}
		data, err := src.Log(ctx, id, t.Name)
		if err != nil {
			fmt.Fprintf(w, "(log unavailable: %v)\n", err)
			continue
		}
		_, _ = w.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
	return nil
}
