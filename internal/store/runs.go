package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

// runFile is the name of a run's record inside its directory.
const runFile = "run.json"

// stampLayout names run directories so that sorting names sorts runs by start: fixed width,
// UTC, nanoseconds.
const stampLayout = "20060102T150405.000000000Z"

// RunDir returns the directory of run runID of recipeTest, creating it (and pruning the
// oldest runs beyond the history bound) if this run is new. Tiers write their logs and
// artifacts there; it is removed with the run when the run falls out of the history.
func (s *Store) RunDir(recipeTest, runID string) (string, error) {
	if err := checkName("recipe test", recipeTest); err != nil {
		return "", fmt.Errorf("run directory: %w", err)
	}
	if err := checkName("run id", runID); err != nil {
		return "", fmt.Errorf("run directory: %w", err)
	}
	parent := filepath.Join(s.dir, runsDir, recipeTest)
	if dir, ok, err := findRun(parent, runID); err != nil || ok {
		return dir, err
	}
	dir := filepath.Join(parent, s.stamp()+"-"+runID)
	if err := s.wrote(os.MkdirAll(dir, DirMode)); err != nil {
		return "", fmt.Errorf("create run directory of %s run %s: %w", recipeTest, runID, err)
	}
	if err := syncDir(parent); err != nil {
		return "", fmt.Errorf("create run directory of %s run %s: %w", recipeTest, runID, err)
	}
	if err := s.prune(parent, dir); err != nil {
		return "", fmt.Errorf("prune runs of %s: %w", recipeTest, err)
	}
	return dir, nil
}

// PutRun stores v as the record of run runID of recipeTest, atomically, creating the run's
// directory if needed. Call it as often as the run progresses.
func (s *Store) PutRun(recipeTest, runID string, v any) error {
	dir, err := s.RunDir(recipeTest, runID)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("put %s run %s: %w", recipeTest, runID, err)
	}
	if err := s.wrote(writeFile(filepath.Join(dir, runFile), append(secrets.RedactBytes(data), '\n'))); err != nil {
		return fmt.Errorf("put %s run %s: %w", recipeTest, runID, err)
	}
	return nil
}

// Runs returns the stored run records of recipeTest, newest first, at most the history bound.
// Runs whose directory exists but whose record is not written yet are left out. A record that
// cannot be read is moved aside and left out too; Runs then returns the readable records
// together with an error joining one *CorruptError per bad file.
func (s *Store) Runs(recipeTest string) ([]json.RawMessage, error) {
	if err := checkName("recipe test", recipeTest); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	dirs, err := runDirs(filepath.Join(s.dir, runsDir, recipeTest))
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", recipeTest, err)
	}
	// Another process may have opened the directory with a longer history and not pruned
	// yet; the bound holds for what this Store returns all the same.
	dirs = dirs[max(len(dirs)-s.keep, 0):]
	var runs []json.RawMessage
	var errs []error
	for _, d := range slices.Backward(dirs) {
		var raw json.RawMessage
		found, err := readFile(filepath.Join(d, runFile), func(data []byte) error { return unmarshalStrict(data, &raw) })
		if err != nil {
			errs = append(errs, err)
		}
		if found {
			runs = append(runs, raw)
		}
	}
	return runs, errors.Join(errs...)
}

// stamp returns a run directory prefix later than any this Store handed out before, even if
// the clock stands still or steps back.
func (s *Store) stamp() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	if !now.After(s.lastStamp) {
		now = s.lastStamp.Add(time.Nanosecond)
	}
	s.lastStamp = now
	return now.Format(stampLayout)
}

// runDirs returns the run directories under parent, oldest first.
func runDirs(parent string) ([]string, error) {
	entries, err := os.ReadDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) > len(stampLayout)+1 && !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, filepath.Join(parent, e.Name()))
		}
	}
	slices.Sort(dirs) // ReadDir sorts already; this states the order the callers rely on
	return dirs, nil
}

// findRun returns the existing directory of runID under parent.
func findRun(parent, runID string) (string, bool, error) {
	dirs, err := runDirs(parent)
	if err != nil {
		return "", false, err
	}
	for _, d := range dirs {
		if filepath.Base(d)[len(stampLayout)+1:] == runID {
			return d, true, nil
		}
	}
	return "", false, nil
}

// prune removes the oldest run directories beyond the history bound, never keep.
func (s *Store) prune(parent, keep string) error {
	dirs, err := runDirs(parent)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range dirs[:max(len(dirs)-s.keep, 0)] {
		if d == keep {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
