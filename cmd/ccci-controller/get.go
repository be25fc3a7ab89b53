package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/store"
)

// Output formats of get.
const (
	outputTable = "table"
	outputYAML  = "yaml"
	outputJSON  = "json"
)

// objectView is an object with its status, as get -o yaml|json prints it. Invalid objects have
// no spec but their errors.
type objectView struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   v1.ObjectMeta `json:"metadata"`
	Spec       any           `json:"spec,omitempty"`
	Status     any           `json:"status,omitempty"`
	Errors     []string      `json:"errors,omitempty"`
}

// stateView reads objects and status without touching Docker.
type stateView struct {
	objects *controllers.Dir
	store   *store.Store
}

func openState(g *globalOptions) (*stateView, error) {
	st, err := store.Open(g.State)
	if err != nil {
		return nil, fmt.Errorf("open state directory: %w", err)
	}
	return &stateView{objects: &controllers.Dir{Root: g.Resources}, store: st}, nil
}

func (s *stateView) view(kind, name string) (objectView, bool, error) {
	v := objectView{APIVersion: v1.APIVersion, Kind: kind, Metadata: v1.ObjectMeta{Name: name}}
	obj, err := s.objects.Get(kind, name)
	if inv, ok := err.(*controllers.InvalidError); ok {
		for _, e := range inv.Errors {
			v.Errors = append(v.Errors, e.Error())
		}
	} else if err != nil {
		return v, false, err
	}
	switch o := obj.(type) {
	case *v1.WarmCanonical:
		o.Default()
		v.Metadata, v.Spec = o.Metadata, o.Spec
	case *v1.RecipeTest:
		o.Default()
		v.Metadata, v.Spec = o.Metadata, o.Spec
	}
	if kind == v1.KindWarmCanonical {
		var st v1.WarmCanonicalStatus
		found, err := s.store.Get(kind, name, &st)
		if err != nil {
			return v, false, err
		}
		if found {
			v.Status = st
		}
	} else {
		st, err := controllers.RecipeTestStatusOf(s.store, name)
		if err != nil {
			return v, false, err
		}
		v.Status = st
	}
	return v, obj != nil || len(v.Errors) > 0, nil
}

func newGetCommand(g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get [KIND [NAME]]",
		Short: "List objects with their status",
		Long: `Get lists RecipeTests and WarmCanonicals with their status from the state directory. KIND is
recipetest (rt) or warmcanonical (wc), plurals accepted; without KIND both are listed.
-o yaml or -o json prints spec and full status (conditions, versions, runs).`,
		Example: `  ccci-controller get
  ccci-controller get wc
  ccci-controller get rt gitea -o yaml`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != outputTable && output != outputYAML && output != outputJSON {
				return usageError(fmt.Errorf("invalid -o %q (valid: table, yaml, json)", output))
			}
			kinds := []string{v1.KindRecipeTest, v1.KindWarmCanonical}
			if len(args) > 0 {
				k, err := parseKind(args[0])
				if err != nil {
					return err
				}
				kinds = []string{k}
			}
			s, err := openState(g)
			if err != nil {
				return err
			}
			var views []objectView
			for _, kind := range kinds {
				names, err := s.objects.List(kind)
				if err != nil {
					return err
				}
				if len(args) == 2 {
					names = []string{args[1]}
				}
				for _, n := range names {
					v, found, err := s.view(kind, n)
					if err != nil {
						return err
					}
					if !found {
						return &exitError{code: exitFailed, err: fmt.Errorf("%s %q not found in %s", kind, n, g.Resources)}
					}
					views = append(views, v)
				}
			}
			return printViews(cmd.OutOrStdout(), output, views)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", outputTable, "output format: table, yaml or json")
	return cmd
}

func printViews(w io.Writer, output string, views []objectView) error {
	switch output {
	case outputJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if len(views) == 1 {
			return enc.Encode(views[0])
		}
		return enc.Encode(map[string]any{"items": views})
	case outputYAML:
		for i, v := range views {
			b, err := yaml.Marshal(v)
			if err != nil {
				return fmt.Errorf("encode %s %q: %w", v.Kind, v.Metadata.Name, err)
			}
			if i > 0 {
				fmt.Fprintln(w, "---")
			}
			_, _ = w.Write(b)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	last := ""
	for _, v := range views {
		if v.Kind != last {
			if last != "" {
				fmt.Fprintln(tw)
			}
			last = v.Kind
			if v.Kind == v1.KindWarmCanonical {
				fmt.Fprintln(tw, "WARMCANONICAL\tDEPLOYED\tDESIRED\tKNOWN-GOOD\tREADY\tREASON\tSINCE\tDEPENDS-ON")
			} else {
				fmt.Fprintln(tw, "RECIPETEST\tREADY\tREASON\tLAST RUN\tVERSION\tTRIGGER\tVERDICT\tSINCE")
			}
		}
		printRow(tw, v)
	}
	return nil
}

func printRow(w io.Writer, v objectView) {
	var conds v1.Conditions
	switch st := v.Status.(type) {
	case v1.WarmCanonicalStatus:
		conds = st.Conditions
		r, _ := readyOf(conds, v.Errors)
		var deps []string
		if spec, ok := v.Spec.(v1.WarmCanonicalSpec); ok {
			deps = spec.DependsOn
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Metadata.Name, orDash(st.DeployedVersion), orDash(st.DesiredVersion), orDash(st.KnownGoodVersion), r.Status, orDash(r.Reason), age(r.LastTransitionTime), orDash(strings.Join(deps, ",")))
	case v1.RecipeTestStatus:
		r, _ := readyOf(st.Conditions, v.Errors)
		run := v1.Run{}
		if len(st.Runs) > 0 {
			run = st.Runs[0]
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Metadata.Name, r.Status, orDash(r.Reason), orDash(run.ID), orDash(run.Version), orDash(string(run.Trigger)), orDash(string(run.Verdict)), age(run.StartedAt))
	default:
		r, _ := readyOf(nil, v.Errors)
		fmt.Fprintf(w, "%s\t-\t-\t-\t%s\t%s\t-\n", v.Metadata.Name, r.Status, orDash(r.Reason))
	}
}

// readyOf returns the Ready condition, or a Stalled one for an object whose file is invalid.
func readyOf(conds v1.Conditions, errs []string) (v1.Condition, bool) {
	if len(errs) > 0 {
		return v1.Condition{Type: v1.ConditionReady, Status: v1.ConditionFalse, Reason: v1.ReasonInvalidSpec, Message: errs[0]}, true
	}
	if c, ok := conds.Get(v1.ConditionReady); ok {
		return c, true
	}
	return v1.Condition{Type: v1.ConditionReady, Status: v1.ConditionUnknown}, false
}

func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String()
}
