package recipe

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// composeFileVar is abra's list of compose files, separated by colons.
const composeFileVar = "COMPOSE_FILE"

// AppOptions says which app of a recipe an env is built for.
type AppOptions struct {
	// Stack is the app's stack name (STACK_NAME). Required.
	Stack string
	// Recipe, RunID, Version and Requires are what Templated values may refer to besides
	// Stack.
	Recipe, RunID, Version string
	Requires               map[string]RequiredApp
	// Templated is laid over the recipe's env, each value rendered as a template first (a
	// RecipeTest's spec.env: {{ .Stack }} and the other TemplateData keys).
	Templated map[string]string
	// Env is laid over Templated as it is (a WarmCanonical's spec.env).
	Env map[string]string
	// ComposeFiles, when not empty, are the compose files whatever the env says (a
	// RecipeTest's spec.composeFiles).
	ComposeFiles []string
	// Reveal turns an encrypted value of Templated or Env into its plaintext (secret true),
	// and leaves a plain one alone (secret false); field names the value for errors
	// (`RecipeTest "x" spec.env.TOKEN`). A revealed value is laid in its layer as it is, never
	// rendered as a template. Without Reveal an encrypted value (one holding a NUL, see
	// api/v1.Env) is an error.
	Reveal func(field, value string) (plain string, secret bool, err error)
	// TemplatedField and EnvField name the two layers in errors, e.g. `RecipeTest "x"
	// spec.env` and `WarmCanonical "y" spec.env`. Optional: "spec.env" by default.
	TemplatedField, EnvField string
}

// App is what one app of a recipe is deployed with.
type App struct {
	// Env is the interpolation environment: the recipe's .env.sample and abra.sh exports, the
	// layers of AppOptions in order, COMPOSE_FILE and STACK_NAME.
	Env map[string]string
	// ComposeFiles are the compose files to load, relative to the recipe tree, in order.
	ComposeFiles []string
}

// App builds the env and compose files of one app, the one way test stacks and warm apps get
// theirs. As in an abra env file, where a later `COMPOSE_FILE="$COMPOSE_FILE:compose.x.yml"`
// line extends an earlier one, a layer's COMPOSE_FILE may refer to the value below it as
// $COMPOSE_FILE or ${COMPOSE_FILE}.
func (c *Contents) App(o AppOptions) (App, error) {
	env := maps.Clone(c.Env)
	if env == nil {
		env = map[string]string{}
	}
	templated, revealedT, err := o.reveal(o.TemplatedField, o.Templated)
	if err != nil {
		return App{}, err
	}
	rendered, err := RenderEnv(templated, TemplateData{Stack: o.Stack, Recipe: o.Recipe, RunID: o.RunID, Version: o.Version, Requires: o.Requires})
	if err != nil {
		return App{}, err
	}
	maps.Copy(rendered, revealedT)
	plain, revealed, err := o.reveal(o.EnvField, o.Env)
	if err != nil {
		return App{}, err
	}
	maps.Copy(plain, revealed)
	layered := false
	for _, layer := range []map[string]string{rendered, plain} {
		for k, v := range layer {
			if k == composeFileVar {
				below := env[k]
				if below == "" {
					// abra's default when nothing sets COMPOSE_FILE.
					below = strings.Join(c.ComposeFiles, ":")
				}
				v = expandSelf(v, below)
				layered = true
			}
			env[k] = v
		}
	}
	files := c.ComposeFiles
	switch {
	case len(o.ComposeFiles) > 0:
		files = o.ComposeFiles
	case layered:
		files = splitComposeFiles(env[composeFileVar])
		if len(files) == 0 {
			files = []string{DefaultComposeFile}
		}
		if err := checkComposeFiles(c.Dir, files); err != nil {
			return App{}, fmt.Errorf("COMPOSE_FILE %q of spec.env: %w", env[composeFileVar], err)
		}
	}
	env[composeFileVar] = strings.Join(files, ":")
	env["STACK_NAME"] = o.Stack
	return App{Env: env, ComposeFiles: files}, nil
}

// reveal splits env into its plain values and its revealed (decrypted) ones.
func (o AppOptions) reveal(layer string, env map[string]string) (plain, revealed map[string]string, err error) {
	if layer == "" {
		layer = "spec.env"
	}
	plain, revealed = map[string]string{}, map[string]string{}
	for k, v := range env {
		if !strings.ContainsRune(v, 0) {
			plain[k] = v
			continue
		}
		field := layer + "." + k
		if o.Reveal == nil {
			return nil, nil, fmt.Errorf("%s.age: no age identity to decrypt it with (valid: --age-identity FILE or CCCI_AGE_IDENTITY)", field)
		}
		pt, secret, err := o.Reveal(field, v)
		if err != nil {
			return nil, nil, err
		}
		if !secret {
			return nil, nil, fmt.Errorf("%s holds a NUL character, which no environment variable can", field)
		}
		revealed[k] = pt
	}
	return plain, revealed, nil
}

// expandSelf replaces $COMPOSE_FILE and ${COMPOSE_FILE} in v by below, leaving anything else
// as written.
func expandSelf(v, below string) string {
	return os.Expand(v, func(name string) string {
		if name == composeFileVar {
			return below
		}
		return "${" + name + "}"
	})
}

func splitComposeFiles(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ":") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checkComposeFiles reports a compose file of the list that is not a file inside the tree.
func checkComposeFiles(dir string, files []string) error {
	for _, f := range files {
		if filepath.IsAbs(f) || !filepath.IsLocal(f) {
			return fmt.Errorf("compose file %q: must be a relative path inside the recipe", f)
		}
		if _, err := StatTreeFile(dir, f); err != nil {
			return fmt.Errorf("compose file %q: %w", f, err)
		}
	}
	return nil
}
