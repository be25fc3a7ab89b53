package store

import (
	"errors"
	"fmt"
	"syscall"
)

// NoSpaceError says that a write failed because the state directory's file system is full
// (backup archives and run logs live there too). The file it was to replace is intact: writes
// go to a temporary file first.
type NoSpaceError struct {
	// Dir is the state directory.
	Dir string
	// Err is the failed write.
	Err error
}

// Error names the state directory first, as operators search for it.
func (e *NoSpaceError) Error() string { return fmt.Sprintf("no space left on %s: %v", e.Dir, e.Err) }

// Unwrap returns the failed write.
func (e *NoSpaceError) Unwrap() error { return e.Err }

// IsNoSpace reports whether err is, or wraps, a write to a full state directory.
func IsNoSpace(err error) bool {
	var ns *NoSpaceError
	return errors.As(err, &ns) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// WriteErrors returns how many writes of status and run records have failed since Open, for
// the ccci_state_write_errors_total metric.
func (s *Store) WriteErrors() uint64 { return s.writeErrors.Load() }

// wrote counts a failed write and names a full disk; it returns nil for nil.
func (s *Store) wrote(err error) error {
	if err == nil {
		return nil
	}
	s.writeErrors.Add(1)
	if IsNoSpace(err) {
		return &NoSpaceError{Dir: s.dir, Err: err}
	}
	return err
}

// MinFree is the free space below which the state directory counts as full for readiness: a
// run writes its record, log and artifacts there, and a file system with a few pages left
// takes a 4 KiB probe while the next run's writes fail. Each failed write frees the pages it
// had taken, so a probe alone would answer ready and not ready by turns on a full disk.
const MinFree = 1 << 20

// Free returns the bytes an unprivileged writer may still use on the state directory's file
// system.
func (s *Store) Free() (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err != nil {
		return 0, fmt.Errorf("read free space of %s: %w", s.dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
