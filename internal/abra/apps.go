package abra

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

// MaxStackName is the length abra cuts a sanitised app name to (its
// MAX_SANITISED_APP_NAME_LENGTH): Docker refuses longer names for the objects it derives
// from a stack name.
const MaxStackName = 45

// Keys of an app env file that abra reads itself and no recipe does. RECIPE (or the older
// TYPE) names the recipe, with an optional ":version" pin; STACK_NAME, when present, overrides
// the stack name and becomes spec.stack. They are not part of the app's env.
var bookkeeping = []string{"RECIPE", "TYPE", "STACK_NAME"}

// App is one app of an abra server, read from its env file.
type App struct {
	// File is the env file's path.
	File string
	// Domain is abra's app name: the file name without ".env", the app's domain.
	Domain string
	// Name is the WarmCanonical's name: the domain as a DNS-1123 label.
	Name string
	// Stack is the stack abra deploys the app as.
	Stack string
	// Recipe is the recipe's name, from RECIPE= or TYPE=.
	Recipe string
	// Pinned is the version after "RECIPE=name:", if any.
	Pinned string
	// Env is the file's env without abra's bookkeeping keys; SECRET_*_VERSION keys stay.
	Env map[string]string
}

// Problem is an env file that could not be mapped, and why.
type Problem struct {
	File   string
	Reason string
}

func (p Problem) String() string { return p.File + ": " + p.Reason }

// ReadDir reads every *.env file directly in dir, in name order. Files it cannot map are
// returned as problems; an unreadable directory is an error.
func ReadDir(dir string) ([]App, []Problem, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read abra env directory: %w", err)
	}
	var apps []App
	var problems []Problem
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".env") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		app, reason := readApp(path)
		if reason != "" {
			problems = append(problems, Problem{File: path, Reason: reason})
			continue
		}
		apps = append(apps, app)
	}
	return apps, problems, nil
}

// maxEnvFile bounds what is read of one env file: abra's are a few KiB.
const maxEnvFile = 1 << 20

// readApp maps one env file; a non-empty reason says why it cannot be. Reasons quote no value
// of the file: an env file holds credentials.
func readApp(path string) (App, string) {
	info, err := os.Lstat(path)
	if err != nil {
		return App{}, err.Error()
	}
	if !info.Mode().IsRegular() {
		return App{}, "not a regular file (valid: an abra app env file)"
	}
	if info.Size() > maxEnvFile {
		return App{}, fmt.Sprintf("%d bytes, more than an app env file has (valid: at most %d)", info.Size(), maxEnvFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return App{}, err.Error()
	}
	f, err := recipe.ParseEnvFile(filepath.Base(path), data)
	if err != nil {
		return App{}, "parse: " + err.Error()
	}
	domain := strings.TrimSuffix(filepath.Base(path), ".env")
	app := App{File: path, Domain: domain, Env: map[string]string{}}
	ref := f.Env["RECIPE"]
	if ref == "" {
		ref = f.Env["TYPE"]
	}
	if ref == "" {
		return App{}, "no RECIPE= or TYPE= (valid: RECIPE=<recipe> or RECIPE=<recipe>:<version>)"
	}
	app.Recipe, app.Pinned, _ = strings.Cut(ref, ":")
	if !label.MatchString(app.Recipe) {
		return App{}, "RECIPE is not a recipe name (valid: lower-case letters, digits and '-', e.g. RECIPE=gitea:3.5.3+1.24.2)"
	}
	if app.Name, err = Name(domain); err != nil {
		return App{}, err.Error()
	}
	app.Stack = f.Env["STACK_NAME"]
	if app.Stack == "" {
		app.Stack = StackName(domain)
	}
	for k, v := range f.Env {
		app.Env[k] = v
	}
	for _, k := range bookkeeping {
		delete(app.Env, k)
	}
	return app, ""
}

// StackName is abra's stack name for the app called domain: dots become underscores, and the
// result is cut to MaxStackName characters.
func StackName(domain string) string {
	s := strings.ReplaceAll(domain, ".", "_")
	if len(s) > MaxStackName {
		s = s[:MaxStackName]
	}
	return s
}

// label is a DNS-1123 label, what resource names must be.
var label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Name is the WarmCanonical name of the app called domain: lower-case, dots as dashes.
func Name(domain string) (string, error) {
	n := strings.ReplaceAll(strings.ToLower(domain), ".", "-")
	if !label.MatchString(n) {
		return "", fmt.Errorf("app name %q does not make a resource name (valid: a domain whose dotted parts give at most 63 letters, digits and '-')", domain)
	}
	return n, nil
}

// Recipes returns the distinct recipes of apps, sorted.
func Recipes(apps []App) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range apps {
		if !seen[a.Recipe] {
			seen[a.Recipe] = true
			out = append(out, a.Recipe)
		}
	}
	sort.Strings(out)
	return out
}
