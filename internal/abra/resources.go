package abra

import (
	"bytes"
	"fmt"
	"io"
	"text/template"

	"sigs.k8s.io/yaml"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// DefaultSource is the git URL template abra clones a recipe from: the Co-op Cloud recipe
// catalogue.
const DefaultSource = "https://git.coopcloud.tech/coop-cloud/{{ .Recipe }}.git"

// Where an app's version came from, for the comment above its WarmCanonical.
const (
	FromStack  = "the running stack's version label"
	FromPin    = "the version pinned in RECIPE="
	FromNewest = "the recipe's newest tag (nothing runs and nothing is pinned)"
)

// Version picks the version of app: the one its stack runs (running maps stack names to their
// version labels; nil when the engine did not answer), else its pin, else newest(recipe).
func Version(app App, running map[string]string, newest func(recipe string) (string, error)) (version, from string, err error) {
	if v := running[app.Stack]; v != "" {
		return v, FromStack, nil
	}
	if app.Pinned != "" {
		return app.Pinned, FromPin, nil
	}
	v, err := newest(app.Recipe)
	if err != nil {
		return "", "", fmt.Errorf("no version: stack %s does not run, RECIPE= pins none, and the recipe's tags could not be read: %w", app.Stack, err)
	}
	return v, FromNewest, nil
}

// Resource is one object to print, with the comment that goes above it.
type Resource struct {
	Comment string
	Object  v1.Object
}

// Source renders the RecipeTest source URL of a recipe from a Go template over {{ .Recipe }}.
type Source struct{ t *template.Template }

// ParseSource parses the --recipe-source template.
func ParseSource(text string) (*Source, error) {
	t, err := template.New("recipe-source").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse recipe source template: %w", err)
	}
	return &Source{t: t}, nil
}

// URL returns the source of recipe.
func (s *Source) URL(recipe string) (string, error) {
	var b bytes.Buffer
	if err := s.t.Execute(&b, struct{ Recipe string }{recipe}); err != nil {
		return "", fmt.Errorf("render recipe source template for %s: %w", recipe, err)
	}
	return b.String(), nil
}

// RecipeTest returns the RecipeTest of recipe, its source from src.
func RecipeTest(recipe string, src *Source) (*v1.RecipeTest, error) {
	url, err := src.URL(recipe)
	if err != nil {
		return nil, err
	}
	rt := &v1.RecipeTest{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindRecipeTest}, Metadata: v1.ObjectMeta{Name: recipe}}
	rt.Spec.Source.Git = url
	return rt, nil
}

// WarmCanonical returns the WarmCanonical that adopts app at version.
func WarmCanonical(app App, version string) *v1.WarmCanonical {
	wc := &v1.WarmCanonical{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.KindWarmCanonical}, Metadata: v1.ObjectMeta{Name: app.Name}}
	wc.Spec.RecipeTest = app.Recipe
	wc.Spec.Version = version
	wc.Spec.Stack = app.Stack
	if len(app.Env) > 0 {
		wc.Spec.Env = v1.Env(app.Env)
	}
	return wc
}

// Check renders r as a resource file and parses, defaults and validates it the way validate
// and the controller do, so that what is printed is what will load.
func Check(r Resource) error {
	data, err := yaml.Marshal(r.Object)
	if err != nil {
		return fmt.Errorf("encode %s: %w", r.Object.GetKey(), err)
	}
	objs, err := v1.Parse(r.Object.GetKey().String(), data)
	if err != nil {
		return err
	}
	for _, o := range objs {
		o.Default()
		if err := o.Validate().Err(); err != nil {
			return fmt.Errorf("%s: %w", o.GetKey(), err)
		}
	}
	return nil
}

// Write prints the resources as one YAML stream, each with its comment.
func Write(w io.Writer, rs []Resource) error {
	var b bytes.Buffer
	for _, r := range rs {
		data, err := yaml.Marshal(r.Object)
		if err != nil {
			return fmt.Errorf("encode %s: %w", r.Object.GetKey(), err)
		}
		b.WriteString("---\n")
		if r.Comment != "" {
			b.WriteString("# " + r.Comment + "\n")
		}
		b.Write(data)
	}
	_, err := w.Write(b.Bytes())
	return err
}
