package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultRunHistory is how many runs per RecipeTest are kept when Open gets no WithRunHistory.
const DefaultRunHistory = 20

// Store is a state directory. Its layout:
//
//	<dir>/status/<kind>/<name>.json           status of one object
//	<dir>/runs/<recipeTest>/<stamp>-<runID>/   one run: run.json and its logs, newest kept
//	<dir>/locks/<kind>/<name>.lock            flock of one object
//
// A Store is safe for concurrent use, and several processes may open the same directory.
type Store struct {
	dir  string
	keep int

	mu        sync.Mutex
	lastStamp time.Time // run directories get strictly increasing stamps within a process
}

// Option configures Open.
type Option func(*Store)

// WithRunHistory keeps the n newest runs per RecipeTest (n >= 1); older run directories, logs
// included, are removed when a new run starts. Defaults to DefaultRunHistory.
func WithRunHistory(n int) Option {
	return func(s *Store) {
		if n >= 1 {
			s.keep = n
		}
	}
}

// Open creates the state directory if needed and returns a Store on it. It removes temporary
// files that writers killed mid-write left behind, once they are old enough that no live
// writer can still own them.
func Open(dir string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open state directory %q: %w", dir, err)
	}
	s := &Store{dir: abs, keep: DefaultRunHistory}
	for _, o := range opts {
		o(s)
	}
	for _, sub := range []string{statusDir, runsDir, locksDir} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("open state directory %q: %w", dir, err)
		}
	}
	s.removeStaleTemps()
	return s, nil
}

// Dir returns the absolute path of the state directory.
func (s *Store) Dir() string { return s.dir }

const (
	statusDir = "status"
	runsDir   = "runs"
	locksDir  = "locks"
)

// checkName rejects a kind, name or run id that is not a single safe path component, so no
// caller can read or write outside the state directory.
func checkName(what, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is empty", what)
	case v == "." || v == ".." || strings.HasPrefix(v, "."):
		return fmt.Errorf("%s %q starts with a dot", what, v)
	case strings.ContainsAny(v, "/\\\x00"):
		return fmt.Errorf("%s %q contains a path separator or NUL", what, v)
	}
	return nil
}

// objectPath returns <dir>/<sub>/<kind>/<name><ext> after checking kind and name.
func (s *Store) objectPath(sub, kind, name, ext string) (string, error) {
	if err := checkName("kind", kind); err != nil {
		return "", err
	}
	if err := checkName("name", name); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, sub, kind, name+ext), nil
}
