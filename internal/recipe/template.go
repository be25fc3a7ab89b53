package recipe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template/parse"
)

// TemplateData is what a test env value may refer to, e.g. DOMAIN: "{{ .Stack }}.test.example.org".
type TemplateData struct {
	// Stack is the throw-away stack's name (STACK_NAME).
	Stack string
	// Recipe is the recipe's name.
	Recipe string
	// RunID is the id of the run.
	RunID string
	// Version is the version (tag or ref) deployed on the stack.
	Version string
	// Requires are the apps the run requires, by their spec.requires name.
	Requires map[string]RequiredApp
}

// RequiredApp is what the test env templates know of an app a run requires:
// {{ .Requires.keycloak.Stack }}, {{ .Requires.keycloak.Env.DOMAIN }},
// {{ index .Requires.keycloak.Networks 0 }}.
type RequiredApp struct {
	// Stack is its stack name.
	Stack string
	// Env is the env it is deployed with (encrypted values left out).
	Env map[string]string
	// Networks are the Swarm names of the networks its services are attached to, sorted.
	Networks []string
}

func (d TemplateData) keys() map[string]any {
	req := map[string]any{}
	for name, a := range d.Requires {
		req[name] = map[string]any{"Stack": a.Stack, "Env": a.Env, "Networks": a.Networks}
	}
	return map[string]any{"Stack": d.Stack, "Recipe": d.Recipe, "RunID": d.RunID, "Version": d.Version, "Requires": req}
}

// RenderEnv returns env with every value rendered as a text/template against data. A value that
// refers to a key TemplateData does not have is an error naming the variable, the key and the
// valid keys, so a typo never reaches a deployed stack as an empty string.
func RenderEnv(env map[string]string, data TemplateData) (map[string]string, error) {
	out := make(map[string]string, len(env))
	for _, name := range slices.Sorted(maps.Keys(env)) {
		v, err := renderValue(name, env[name], data)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func renderValue(name, value string, data TemplateData) (string, error) {
	if !strings.Contains(value, "{{") {
		return value, nil
	}
	out, err := render(name, value, data)
	if err != nil {
		return "", fmt.Errorf("env %s: %w", name, err)
	}
	return out, nil
}

// render parses and executes one value's template within the bounds of template_bounds.go.
// Its errors do not name the variable: callers do.
func render(name, value string, data TemplateData) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), renderTimeout)
	defer cancel()
	b := &bounds{ctx: ctx}
	keys := data.keys()
	t, err := parseBounded(name, value, b)
	if err != nil {
		return "", fmt.Errorf("parse template %q: %w (valid: a Go text/template such as {{ .Stack }}.example.org)", value, err)
	}
	for _, f := range templateFields(t.Tree.Root) {
		if _, ok := keys[f]; !ok {
			return "", fmt.Errorf("template %q refers to unknown key %q (valid: %s)", value, f, validKeys(keys))
		}
	}
	w := &boundedWriter{b: b}
	if err := t.Execute(w, keys); err != nil {
		if le := (*limitError)(nil); errors.As(err, &le) {
			return "", fmt.Errorf("template %w", le)
		}
		return "", &execError{fmt.Errorf("render template %q (valid keys: %s): %w", value, validKeys(keys), err)}
	}
	return w.String(), nil
}

// execError is a template that failed on the data it was given, e.g. an index past the end.
type execError struct{ error }

func (e *execError) Unwrap() error { return e.error }

func validKeys(keys map[string]any) string { return strings.Join(slices.Sorted(maps.Keys(keys)), ", ") }

// CheckTemplate renders value as a test env value with placeholder data, for validate: it
// returns the errors that do not depend on the real data (syntax, unknown keys, the loop, size
// and time bounds), so that they show before a commit. requires are the names of the run's
// spec.requires. An error of the real data, such as an index past the end of a required app's
// networks, shows only when a run renders it. The error does not name the variable.
func CheckTemplate(name, value string, requires []string) error {
	data := TemplateData{Stack: "ccci_placeholder_0000", Recipe: "placeholder", RunID: "0000", Version: "0.0.0+placeholder",
		Requires: map[string]RequiredApp{}}
	for _, r := range requires {
		data.Requires[r] = RequiredApp{Stack: "ccci_placeholder_0000_" + r, Env: map[string]string{}, Networks: []string{"placeholder_default", "proxy"}}
	}
	if !strings.Contains(value, "{{") {
		return nil
	}
	_, err := render(name, value, data)
	if ee := (*execError)(nil); errors.As(err, &ee) {
		return nil
	}
	return err
}

// templateFields lists the first identifier of every field reference (.Stack → "Stack") in a
// template tree, to name an unknown key before execution instead of parsing an error string.
func templateFields(n parse.Node) []string {
	var out []string
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if len(n.Ident) > 0 {
				out = append(out, n.Ident[0])
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(n)
	return out
}
