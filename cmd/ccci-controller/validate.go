package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newValidateCommand(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check resource files: syntax, fields, values and duplicate names",
		Long: `Validate parses resource files strictly, as the controller will: unknown fields, wrong
kinds, invalid names, durations, versions and tiers, and the same object defined twice are
errors. Each PATH is a file or a directory searched recursively for *.yaml and *.yml files
(hidden directories and editor temp files are skipped). Without PATH it checks --resources.

Errors are printed to stderr, one per line, as
  FILE:LINE: Kind "name": field.path: what is wrong (valid: what would be valid)

Exit status: 0 when everything is valid, 2 when anything is invalid.`,
		Example: `  # The resources directory (--resources, env CCCI_RESOURCES)
  ccci-controller validate

  # Some files and a directory
  ccci-controller validate gitea.yaml config/samples/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, errs := opts.loadResources(args...)
			for _, err := range errs {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
			}
			if len(errs) > 0 {
				return &exitError{code: exitInvalid}
			}
			where := opts.Resources
			if len(args) > 0 {
				where = strings.Join(args, " ")
			}
			if set.Len() == 0 {
				return &exitError{code: exitInvalid, err: fmt.Errorf("no resources in %s (valid: files or directories with *.yaml or *.yml resource files)", where)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d RecipeTest and %d WarmCanonical objects are valid\n", where, len(set.RecipeTests()), len(set.WarmCanonicals()))
			log := opts.logger(cmd.Context())
			for _, k := range set.Keys() {
				origin, _ := set.Origin(k)
				log.V(1).Info("Valid object", "kind", k.Kind, "name", k.Name, "file", origin.File, "line", origin.Line)
			}
			return nil
		},
	}
}
