package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"coopcloud.tech/ccci-controller/internal/abra"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// observeTimeout bounds the one look at the engine: import works without it.
const observeTimeout = 10 * time.Second

func newImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Write resources for apps that another tool runs (abra)",
	}
	cmd.AddCommand(newImportAbraCommand())
	return cmd
}

func newImportAbraCommand() *cobra.Command {
	source := abra.DefaultSource
	cmd := &cobra.Command{
		Use:   "abra DIR [--recipe-source TEMPLATE]",
		Short: "Print a WarmCanonical per abra app and a RecipeTest per recipe, from a server's env files",
		Long: `Import abra reads abra's app env files (DIR is a server's directory of *.env files, e.g.
~/.abra/servers/example.org) and prints, as one YAML stream for the resources directory:

  - one RecipeTest per distinct recipe, its source.git from --recipe-source, a Go template
    over {{ .Recipe }} (default: the Co-op Cloud catalogue abra clones from);
  - one WarmCanonical per app: the name from the app's domain (the file name, dots as
    dashes), spec.stack by abra's stack-name rule (STACK_NAME if the file sets it, else the
    domain with dots as underscores, cut to 45 characters), spec.env the file's env without
    abra's own keys (RECIPE, TYPE, STACK_NAME; SECRET_*_VERSION stay), and spec.version the
    version label of the running stack when the engine answers, else the version pinned in
    RECIPE=name:version, else the recipe's newest tag.

The recipe comes from RECIPE= (or the older TYPE=). Secret values are never read: the
WarmCanonicals use the secrets the running stacks already have. Applied to the same engine, the
output adopts every running app with no Swarm write: an app already at its version is
converged. Files that cannot be mapped are listed on stderr with the reason.

Exit status: 0 when every file was mapped, 1 when some were not (the others are printed),
2 on a usage error.`,
		Example: `  ccci-controller import abra ~/.abra/servers/example.org > resources/adopted.yaml
  ccci-controller import abra servers/example.org --recipe-source 'https://git.example.org/mirror/{{ .Recipe }}.git'`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := abra.ParseSource(source)
			if err != nil {
				return usageError(fmt.Errorf("invalid --recipe-source: %w", err))
			}
			return importAbra(cmd.Context(), args[0], src, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&source, "recipe-source", abra.DefaultSource, "Go template over {{ .Recipe }} giving each RecipeTest's spec.source.git")
	return cmd
}

func importAbra(ctx context.Context, dir string, src *abra.Source, out, errOut io.Writer) error {
	apps, problems, err := abra.ReadDir(dir)
	if err != nil {
		return err
	}
	running := runningVersions(ctx, errOut)
	newest := newestTag(ctx, src)
	var rs []abra.Resource
	var adopted []abra.App
	for _, app := range apps {
		version, from, err := abra.Version(app, running, newest)
		if err != nil {
			problems = append(problems, abra.Problem{File: app.File, Reason: err.Error()})
			continue
		}
		r := abra.Resource{Comment: fmt.Sprintf("%s: version from %s", app.File, from), Object: abra.WarmCanonical(app, version)}
		if err := abra.Check(r); err != nil {
			problems = append(problems, abra.Problem{File: app.File, Reason: err.Error()})
			continue
		}
		rs = append(rs, r)
		adopted = append(adopted, app)
	}
	var tests []abra.Resource
	for _, name := range abra.Recipes(adopted) {
		rt, err := abra.RecipeTest(name, src)
		if err == nil {
			r := abra.Resource{Comment: "recipe " + name, Object: rt}
			if err = abra.Check(r); err == nil {
				tests = append(tests, r)
				continue
			}
		}
		return usageError(fmt.Errorf("invalid --recipe-source for recipe %s: %w", name, err))
	}
	if err := abra.Write(out, append(tests, rs...)); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(errOut, p)
	}
	if len(problems) > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d env files in %s not imported", len(problems), len(problems)+len(rs), dir)}
	}
	return nil
}

// runningVersions returns the version label of every stack on the engine, or nil (said on
// errOut) when the engine does not answer: the env files then give the versions.
func runningVersions(ctx context.Context, errOut io.Writer) map[string]string {
	c, err := swarm.NewClient()
	if err == nil {
		octx, cancel := context.WithTimeout(ctx, observeTimeout)
		defer cancel()
		var stacks map[string]swarm.StackState
		if stacks, err = c.Observe(octx); err == nil {
			out := make(map[string]string, len(stacks))
			for name, st := range stacks {
				out[name] = st.Version
			}
			return out
		}
	}
	fmt.Fprintf(errOut, "the Docker engine did not answer (%v): versions come from the env files and the recipes' tags\n", err)
	return nil
}

// newestTag reads a recipe's newest version tag from its source, in a cache removed afterwards
// (import changes nothing of the state directory).
func newestTag(ctx context.Context, src *abra.Source) func(string) (string, error) {
	return func(name string) (string, error) {
		url, err := src.URL(name)
		if err != nil {
			return "", err
		}
		cache, err := os.MkdirTemp("", "ccci-import-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(cache)
		s, err := recipe.Open(logr.NewContext(ctx, logr.Discard()), name, url, recipe.Options{CacheDir: cache})
		if err != nil {
			return "", err
		}
		vs, err := s.Versions(ctx)
		if err != nil {
			return "", err
		}
		v, _ := vs.Latest()
		return v.Tag, nil
	}
}
