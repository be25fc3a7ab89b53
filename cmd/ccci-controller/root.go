package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

// Environment variables that give the global flags their defaults.
const (
	envResources = "CCCI_RESOURCES"
	envState     = "CCCI_STATE"
)

func newRootCommand(opts *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "ccci-controller",
		Short: "Test Co-op Cloud recipes and keep warm apps at the newest version that passed",
		Long: `ccci-controller keeps Co-op Cloud apps on Docker Swarm at the versions declared in resource
files. A RecipeTest says how a recipe is tested (install, upgrade, backup, restore, custom and
lint tiers on throw-away stacks); a WarmCanonical is a long-lived app promoted to a new version
only once its RecipeTest passed for that version. An app that already runs the wanted version is
converged, not an error.

Resource files are YAML (*.yaml, *.yml) under the resources directory, several documents per
file. Status is kept in the state directory, never in the resource files.`,
		Example: `  # Check resource files before committing them
  ccci-controller validate resources/

  # Use other directories, from flags or the environment
  CCCI_RESOURCES=/etc/ccci/resources ccci-controller --state /var/lib/ccci validate`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, err := opts.newLogger(cmd.ErrOrStderr())
			if err != nil {
				return usageError(err)
			}
			cmd.SetContext(logr.NewContext(cmd.Context(), log))
			opts.resourcesFromDaemon(cmd)
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&opts.Resources, "resources", envOr(envResources, "resources"), "directory of resource files (env "+envResources+")")
	f.StringVar(&opts.State, "state", envOr(envState, ".state"), "state directory: status, run history, logs and locks (env "+envState+")")
	f.CountVarP(&opts.Verbosity, "verbose", "v", "more log detail; repeat for more (-vv)")
	f.StringVar(&opts.LogFormat, "log-format", logFormatText, "log format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return root
}

// Log formats of --log-format.
const (
	logFormatText = "text"
	logFormatJSON = "json"
)

// newLogger builds the logr logger the commands take from their context: slog underneath,
// on w, with V(n) shown from -v repeated n times.
func (o *globalOptions) newLogger(w io.Writer) (logr.Logger, error) {
	// logr's V(n) maps to slog level -n; print it as V1, V2 rather than slog's DEBUG+3.
	hopts := &slog.HandlerOptions{Level: slog.Level(-o.Verbosity), ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if l, ok := a.Value.Any().(slog.Level); ok && a.Key == slog.LevelKey && l < slog.LevelInfo && l > slog.LevelDebug {
			a.Value = slog.StringValue("V" + strconv.Itoa(int(-l)))
		}
		return a
	}}
	// slog writes each record with one Write, which secrets.Writer redacts whole.
	w = secrets.Writer(w)
	var h slog.Handler
	switch o.LogFormat {
	case logFormatText:
		h = slog.NewTextHandler(w, hopts)
	case logFormatJSON:
		h = slog.NewJSONHandler(w, hopts)
	default:
		return logr.Discard(), fmt.Errorf("invalid --log-format %q (valid: %s, %s)", o.LogFormat, logFormatText, logFormatJSON)
	}
	return logr.FromSlogHandler(h), nil
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
