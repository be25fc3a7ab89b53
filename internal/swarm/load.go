package swarm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/compose/loader"
	"github.com/docker/cli/cli/compose/schema"
	"github.com/docker/cli/cli/compose/template"
	composetypes "github.com/docker/cli/cli/compose/types"
)

// LoadOptions says which compose files make a stack and how they are interpolated.
type LoadOptions struct {
	// WorkingDir is the recipe checkout; relative compose file paths and relative paths inside
	// them (config and secret files, bind mounts) are resolved against it. Required.
	WorkingDir string
	// ComposeFiles lists the files of COMPOSE_FILE in order; later files are overlays merged
	// over earlier ones. Optional. Defaults to ["compose.yml"].
	ComposeFiles []string
	// Env is the app environment as abra builds it (.env.sample, abra.sh exports, the resource's
	// env); it is the only source of ${VAR} interpolation — the process environment is not read.
	// Optional.
	Env map[string]string
	// StackName is the stack (namespace) name. Required. STACK_NAME is added to Env when absent.
	StackName string
}

// Stack is a loaded, interpolated and merged compose configuration ready to deploy.
type Stack struct {
	// Name is the stack name, the value of com.docker.stack.namespace.
	Name string
	// Config is the merged compose configuration as docker/cli's loader returns it.
	Config *composetypes.Config
	// Env is the interpolation environment, STACK_NAME included.
	Env map[string]string
	// WorkingDir and ComposeFiles are the LoadOptions the stack came from.
	WorkingDir   string
	ComposeFiles []string
	// Warnings lists compose options Swarm ignores (as `docker stack deploy` prints them).
	Warnings []string

	// KeyVariables lists labels written in map form with a variable in their key, such as
	// `coop-cloud.${STACK_NAME}.version: "1.0.0"`: compose interpolates values, never keys, so
	// Swarm gets the literal ${STACK_NAME}. Each entry names the file, service and key.
	KeyVariables []string
	// EmptyVariables lists, per file, the variables used without a default that the
	// environment leaves unset or empty: they interpolate to "" (`docker stack deploy` only
	// warns). Each entry names the file and the variable.
	EmptyVariables []string

	// nameTemplates keeps the raw, uninterpolated name: of each config and secret by
	// kind ("config"/"secret") and compose key, so an immutability error can name the variable
	// to bump.
	nameTemplates map[string]map[string]string
}

// Load reads, interpolates, validates and merges the compose files the same way
// `docker stack deploy -c a.yml -c b.yml` does. Errors name the file and the key at fault.
func Load(opts LoadOptions) (*Stack, error) {
	if strings.TrimSpace(opts.StackName) == "" {
		return nil, errors.New("load stack: stack name is empty")
	}
	files := opts.ComposeFiles
	if len(files) == 0 {
		files = []string{"compose.yml"}
	}
	env := make(map[string]string, len(opts.Env)+1)
	for k, v := range opts.Env {
		env[k] = v
	}
	if _, ok := env["STACK_NAME"]; !ok {
		env["STACK_NAME"] = opts.StackName
	}

	details := composetypes.ConfigDetails{WorkingDir: opts.WorkingDir, Environment: env}
	st := &Stack{
		Name: opts.StackName, Env: env, WorkingDir: opts.WorkingDir, ComposeFiles: files,
		nameTemplates: map[string]map[string]string{"config": {}, "secret": {}},
	}
	for _, f := range files {
		cf, err := readComposeFile(opts.WorkingDir, f)
		if err != nil {
			return nil, err
		}
		if err := checkEnvFiles(opts.WorkingDir, f, cf.Config, env); err != nil {
			return nil, err
		}
		// Each file alone first, so a schema or interpolation error can name its file: the
		// loader validates files one by one but its errors do not say which.
		one := details
		one.ConfigFiles = []composetypes.ConfigFile{*cf}
		one.Version = schema.Version(cf.Config)
		if _, err := loader.Load(one); err != nil {
			return nil, fmt.Errorf("%s: %w", f, describeLoadError(err))
		}
		st.recordNameTemplates(cf.Config)
		st.recordRaw(f, cf.Config)
		details.ConfigFiles = append(details.ConfigFiles, *cf)
		if unsupported := loader.GetUnsupportedProperties(cf.Config); len(unsupported) > 0 {
			st.Warnings = append(st.Warnings, fmt.Sprintf("%s: ignoring unsupported options: %s", f, strings.Join(unsupported, ", ")))
		}
	}
	details.Version = schema.Version(details.ConfigFiles[0].Config)
	cfg, err := loader.Load(details)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(files, ", "), describeLoadError(err))
	}
	for _, svc := range cfg.Services {
		if svc.Image == "" {
			return nil, fmt.Errorf("%s: services.%s.image: no image specified", strings.Join(files, ", "), svc.Name)
		}
		if _, err := reference.ParseAnyReference(svc.Image); err != nil {
			return nil, fmt.Errorf("%s: services.%s.image: invalid image reference %q: %w", strings.Join(files, ", "), svc.Name, svc.Image, err)
		}
	}
	st.Config = cfg
	return st, nil
}

// readComposeFile reads and parses one compose file relative to dir, through an os.Root at dir:
// the recipe is hostile input, and a compose file that is a symbolic link to a host file must
// fail, not be read (its first line would be quoted in the parse error).
func readComposeFile(dir, name string) (*composetypes.ConfigFile, error) {
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("compose file %q: must be a relative path inside the recipe", name)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("read compose file %s: %w", name, err)
	}
	defer root.Close()
	data, err := root.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read compose file %s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	dict, err := loader.ParseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: parse yaml: %w", name, err)
	}
	return &composetypes.ConfigFile{Filename: path, Config: dict}, nil
}

// checkEnvFiles refuses an env_file outside the recipe checkout before the loader reads it: the
// loader would read any host file into the service's environment, and its parse errors quote
// the file's lines.
func checkEnvFiles(dir, file string, dict map[string]any, env map[string]string) error {
	services, _ := dict["services"].(map[string]any)
	for _, name := range sortedKeys(services) {
		svc, _ := services[name].(map[string]any)
		var paths []any
		switch v := svc["env_file"].(type) {
		case string:
			paths = []any{v}
		case []any:
			paths = v
		}
		for _, p := range paths {
			raw, _ := p.(string)
			path, err := template.Substitute(raw, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				return fmt.Errorf("%s: services.%s.env_file %q: %w", file, name, raw, err)
			}
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			if rel, err := filepath.Rel(dir, path); err != nil || !filepath.IsLocal(rel) {
				return fmt.Errorf("%s: services.%s.env_file %q is outside the recipe checkout (valid: a file of the recipe)", file, name, raw)
			}
		}
	}
	return nil
}

// describeLoadError turns the loader's forbidden-properties error, whose Error() says nothing
// useful, into one that lists the keys.
func describeLoadError(err error) error {
	var fpe *loader.ForbiddenPropertiesError
	if errors.As(err, &fpe) {
		var keys []string
		for k, v := range fpe.Properties {
			keys = append(keys, k+" ("+v+")")
		}
		return fmt.Errorf("unsupported options for swarm: %s", strings.Join(keys, "; "))
	}
	return err
}

// recordNameTemplates remembers the raw name: of every config and secret of one parsed (not yet
// interpolated) file; a later file overrides an earlier one, as the merge does.
func (s *Stack) recordNameTemplates(dict map[string]any) {
	for kind, section := range map[string]string{"config": "configs", "secret": "secrets"} {
		objs, _ := dict[section].(map[string]any)
		for key, v := range objs {
			obj, _ := v.(map[string]any)
			if name, ok := obj["name"].(string); ok {
				s.nameTemplates[kind][key] = name
			}
		}
	}
}

// NameTemplate returns the name: of a config or secret (kind "config" or "secret") as written in
// the compose files, before interpolation; "" when it has none.
func (s *Stack) NameTemplate(kind, key string) string { return s.nameTemplates[kind][key] }

// composeRef matches a variable reference of compose interpolation: ${NAME}, ${NAME:-default},
// ${NAME-default}, ${NAME:?err}, ${NAME?err} and $NAME.
var composeRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// recordRaw notes what only the uninterpolated file shows: labels with variables in map keys,
// and variables without a default that interpolate to empty.
func (s *Stack) recordRaw(file string, dict map[string]any) {
	services, _ := dict["services"].(map[string]any)
	for _, name := range sortedKeys(services) {
		svc, _ := services[name].(map[string]any)
		deploy, _ := svc["deploy"].(map[string]any)
		for _, where := range []struct {
			path   string
			labels any
		}{{"deploy.labels", deploy["labels"]}, {"labels", svc["labels"]}} {
			labels, ok := where.labels.(map[string]any)
			if !ok {
				continue
			}
			for _, k := range sortedKeys(labels) {
				if strings.Contains(k, "$") {
					s.KeyVariables = append(s.KeyVariables, fmt.Sprintf("%s: services.%s.%s key %q", file, name, where.path, k))
				}
			}
		}
	}
	seen := map[string]bool{}
	walkStrings(dict, func(v string) {
		v = strings.ReplaceAll(v, "$$", "")
		for _, m := range composeRef.FindAllStringSubmatch(v, -1) {
			name, modifier := m[1]+m[3], m[2]
			if modifier != "" || seen[name] || s.Env[name] != "" {
				continue
			}
			seen[name] = true
			s.EmptyVariables = append(s.EmptyVariables, fmt.Sprintf("%s: ${%s}", file, name))
		}
	})
	sort.Strings(s.EmptyVariables)
}

// walkStrings calls fn with every string value of a parsed YAML tree (keys are never
// interpolated).
func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case map[string]any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	case []any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	}
}
