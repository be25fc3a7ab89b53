package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/resources"
)

func newValidateCommand(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check resource files: syntax, fields, values and duplicate names",
		Long: `Validate parses resource files strictly, as the controller will: unknown fields, wrong
kinds, invalid names, durations, versions and tiers, a key written twice, and the same object
defined twice are errors. Every test env template (a RecipeTest's spec.env and
spec.requires[].env) is rendered with placeholder data: syntax errors, unknown keys, and
templates that loop more than 1000 times, render more than 64 KiB or take over a second are
errors too. Each PATH is a file or a directory searched recursively for *.yaml and *.yml files
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
			errs = append(errs, templateErrors(set)...)
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

// templateErrors renders every test env template of set with placeholder data, so that a
// template that would fail or explode at every run is an error before a commit. Encrypted
// values are never templated.
func templateErrors(set *resources.Set) []error {
	var errs []error
	for _, rt := range set.RecipeTests() {
		origin, _ := set.Origin(rt.GetKey())
		check := func(field string, env v1.Env, requires []string) {
			for _, name := range slices.Sorted(maps.Keys(env)) {
				if _, encrypted := v1.Ciphertext(env[name]); encrypted {
					continue
				}
				if err := recipe.CheckTemplate(name, env[name], requires); err != nil {
					errs = append(errs, &v1.Error{File: origin.File, Line: origin.Line, Kind: v1.KindRecipeTest, Name: rt.Metadata.Name,
						Field: field + "." + name, Detail: err.Error()})
				}
			}
		}
		var names []string
		for _, r := range rt.Spec.Requires {
			names = append(names, r.Name)
		}
		check("spec.env", rt.Spec.Env, names)
		for i, r := range rt.Spec.Requires {
			check(fmt.Sprintf("spec.requires[%d].env", i), r.Env, nil)
		}
	}
	return errs
}
