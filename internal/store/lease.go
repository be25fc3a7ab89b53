package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// leaseKind is the lock directory of run leases: locks/Run/<run id>.lock.
const leaseKind = "Run"

// HoldLease takes the lease of a test run: a lock the process holds for as long as the run
// has objects on Swarm, which any other process on this state directory can test (LeaseHeld)
// without taking it. The kernel drops it when the process dies, however it dies, so a killed
// run's objects are known to be leftovers. release ends it and removes the lease file.
func (s *Store) HoldLease(runID string) (release func(), err error) {
	path, err := s.objectPath(locksDir, leaseKind, runID, ".lock")
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
		return nil, fmt.Errorf("lease of run %s: %w", runID, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return nil, fmt.Errorf("lease of run %s: %w", runID, err)
	}
	// An open file description lock: unlike flock, it can be tested with F_OFD_GETLK without
	// being taken, and unlike a POSIX record lock, closing another descriptor of the file in
	// this process does not drop it.
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		f.Close()
		return nil, fmt.Errorf("lease of run %s: held by another process: %w", runID, err)
	}
	return func() {
		_ = os.Remove(path)
		_ = f.Close()
	}, nil
}

// LeaseHeld reports whether a live process holds the lease of runID. It takes nothing.
func (s *Store) LeaseHeld(runID string) (bool, error) {
	path, err := s.objectPath(locksDir, leaseKind, runID, ".lock")
	if err != nil {
		return false, fmt.Errorf("lease: %w", err)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("test lease of run %s: %w", runID, err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, fmt.Errorf("test lease of run %s: %w", runID, err)
	}
	return lk.Type != unix.F_UNLCK, nil
}
