package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

	// writeErrors counts failed writes (WriteErrors).
	writeErrors atomic.Uint64

	mu        sync.Mutex
	lastStamp time.Time // run directories get strictly increasing stamps within a process

	tightened fs.FileMode // the looser mode Open found the directory with, 0 if none
}

// Modes of what the store creates. Run records, logs and backup archives hold what test apps
// hold: only the controller's user may read them. The state directory's own mode guards
// what others write below it (the recipe cache, whose trees stay readable for custom-tier
// containers).
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

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

// Open creates the state directory if needed (DirMode, its parents 0755) and returns a Store on
// it. An existing directory that group or others may enter is tightened to DirMode; Tightened
// says so, for the caller to warn. It removes temporary files that writers killed mid-write
// left behind, once they are old enough that no live writer can still own them.
func Open(dir string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open state directory %q: %w", dir, err)
	}
	s := &Store{dir: abs, keep: DefaultRunHistory}
	for _, o := range opts {
		o(s)
	}
	if err := s.makeDir(); err != nil {
		return nil, fmt.Errorf("open state directory %q: %w", dir, err)
	}
	for _, sub := range []string{statusDir, runsDir, locksDir} {
		if err := os.MkdirAll(filepath.Join(abs, sub), DirMode); err != nil {
			return nil, fmt.Errorf("open state directory %q: %w", dir, err)
		}
	}
	s.removeStaleTemps()
	return s, nil
}

// makeDir creates the state directory, or tightens an existing one to DirMode.
func (s *Store) makeDir() error {
	if err := os.MkdirAll(filepath.Dir(s.dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(s.dir, DirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	info, err := os.Stat(s.dir)
	if err != nil {
		return err
	}
	if perm := info.Mode().Perm(); perm&^DirMode != 0 {
		if err := os.Chmod(s.dir, DirMode); err != nil {
			return fmt.Errorf("tighten mode %04o to %04o: %w", perm, DirMode, err)
		}
		s.tightened = perm
	}
	return nil
}

// Tightened returns the mode Open found the state directory with when it was looser than
// DirMode and had to be tightened.
func (s *Store) Tightened() (fs.FileMode, bool) { return s.tightened, s.tightened != 0 }

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
