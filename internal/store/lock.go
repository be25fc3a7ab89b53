package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// lockPoll bounds how long Lock sleeps between attempts. flock has no timeout, and a blocking
// flock in a goroutine could not be abandoned when ctx ends, so Lock polls.
const lockPoll = 50 * time.Millisecond

// Lock takes the exclusive lock of kind/name, waiting until it is free or ctx is done, and
// returns the function that releases it. The lock is an flock on
// <dir>/locks/<kind>/<name>.lock: it excludes other processes and other Lock calls in this
// one, and the kernel releases it when its holder dies, so a crashed daemon never leaves an
// object locked. Hold it while driving the object (deploying, writing its status).
func (s *Store) Lock(ctx context.Context, kind, name string) (func() error, error) {
	delay := time.Millisecond
	for {
		unlock, ok, err := s.TryLock(kind, name)
		if err != nil || ok {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s/%s: still held by another holder: %w", kind, name, context.Cause(ctx))
		case <-time.After(delay):
		}
		delay = min(delay*2, lockPoll)
	}
}

// TryLock takes the lock of kind/name if it is free. ok is false, with a nil error, when
// someone else holds it.
func (s *Store) TryLock(kind, name string) (unlock func() error, ok bool, err error) {
	path, err := s.objectPath(locksDir, kind, name, ".lock")
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
		return nil, false, fmt.Errorf("lock %s/%s: %w", kind, name, err)
	}
	// The lock file is never deleted: removing it while another process waits on the old
	// inode would let two processes hold "the" lock at once.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s/%s: %w", kind, name, err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s/%s: %w", kind, name, err)
	}
	// Nothing is written into the lock file: /proc/locks (or lsof) names the holder. A pid
	// written here cost every lock an ftruncate and a write, which on ext4 wait for the
	// journal: about 1 ms per object per pass, the larger part of a no-op sweep.
	var once sync.Once
	var uerr error
	return func() error {
		once.Do(func() {
			uerr = errors.Join(flock(f, unix.LOCK_UN), f.Close())
			if uerr != nil {
				uerr = fmt.Errorf("unlock %s/%s: %w", kind, name, uerr)
			}
		})
		return uerr
	}, true, nil
}

// flock calls flock(2), retrying when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
