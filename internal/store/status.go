package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

// Get decodes the stored status of kind/name into v and reports whether there was one. A file
// that cannot be read or decoded is moved aside; Get then returns false and a *CorruptError,
// and the caller carries on as if there were no status (and reports the error). After an
// error v may be partly filled; start from a zero value.
func (s *Store) Get(kind, name string, v any) (bool, error) {
	path, err := s.objectPath(statusDir, kind, name, ".json")
	if err != nil {
		return false, fmt.Errorf("get status: %w", err)
	}
	return readFile(path, func(data []byte) error { return unmarshalStrict(data, v) })
}

// Put stores v as the status of kind/name, atomically: readers, and a process killed halfway,
// see either the previous status or this one.
func (s *Store) Put(kind, name string, v any) error {
	path, err := s.objectPath(statusDir, kind, name, ".json")
	if err != nil {
		return fmt.Errorf("put status: %w", err)
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("put status of %s/%s: %w", kind, name, err)
	}
	// A status message may quote what a recipe or Swarm said about a secret value.
	if err := s.wrote(writeFile(path, append(secrets.RedactBytes(data), '\n'))); err != nil {
		return fmt.Errorf("put status of %s/%s: %w", kind, name, err)
	}
	return nil
}

// Delete removes the status of kind/name; a missing status is not an error.
func (s *Store) Delete(kind, name string) error {
	path, err := s.objectPath(statusDir, kind, name, ".json")
	if err != nil {
		return fmt.Errorf("delete status: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete status of %s/%s: %w", kind, name, err)
	}
	return syncDir(filepath.Dir(path))
}

// List returns the names of the objects of kind that have a stored status, sorted.
func (s *Store) List(kind string) ([]string, error) {
	if err := checkName("kind", kind); err != nil {
		return nil, fmt.Errorf("list status: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, statusDir, kind))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list status of %s: %w", kind, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".json") {
			names = append(names, strings.TrimSuffix(n, ".json"))
		}
	}
	slices.Sort(names)
	return names, nil
}

// unmarshalStrict decodes JSON into v and rejects trailing data, so a file with two documents
// glued together (a torn hand edit) counts as corrupt rather than silently half-read. Empty
// input is corrupt too: an atomic writer never leaves an empty file.
func unmarshalStrict(data []byte, v any) error {
	if len(data) == 0 {
		return errors.New("empty file")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}
