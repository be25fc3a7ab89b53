package recipe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
)

// Fetch updates the mirror from the remote unless it was fetched less than FetchInterval ago
// (by any process) and force is false. When the remote is unreachable or broken but a cache
// exists, Fetch logs "Fetch failed, using cached recipe", remembers the error for Stale, and
// returns nil: a flaky forge must not turn every green recipe red.
func (s *Source) Fetch(ctx context.Context, force bool) error {
	stamp := filepath.Join(s.gitDir, fetchedName)
	if !force && s.fresh(stamp) {
		// A sweep asks once per object: a stat, not the mirror's lock and a read each time.
		return nil
	}
	lock, err := lockFile(ctx, filepath.Join(s.gitDir, lockName), lockExclusive)
	if err != nil {
		return fmt.Errorf("fetch recipe %s: %w", s.name, err)
	}
	defer lock.Close()
	errFile := filepath.Join(s.gitDir, fetchErrorName)
	if !force && s.opts.FetchInterval > 0 {
		if st, err := os.Stat(stamp); err == nil && time.Since(st.ModTime()) < s.opts.FetchInterval {
			// Another process may have done the last fetch: take over its verdict.
			s.setStale(readFetchError(errFile), st.ModTime())
			return nil
		}
	}
	_, ferr := s.gitRemote(ctx, s.gitDir, "fetch", "--quiet", "--prune", "--prune-tags", "--no-write-fetch-head", "--", "origin")
	if ferr != nil && ctx.Err() != nil {
		return fmt.Errorf("fetch recipe %s: %w", s.name, ctx.Err())
	}
	s.mu.Lock()
	s.lastFetch = time.Now()
	s.mu.Unlock()
	// A failed attempt also counts, so an unreachable forge costs one timeout per interval.
	if err := touch(stamp); err != nil {
		return fmt.Errorf("fetch recipe %s: %w", s.name, err)
	}
	stamped := fetchStamp(s.gitDir)
	if ferr == nil {
		s.setStale(nil, stamped)
		if err := os.Remove(errFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("fetch recipe %s: %w", s.name, err)
		}
		return nil
	}
	stale := fmt.Errorf("fetch recipe %s from %s: %w", s.name, s.url, ferr)
	s.setStale(stale, stamped)
	if err := os.WriteFile(errFile, []byte(stale.Error()), 0o644); err != nil {
		return fmt.Errorf("fetch recipe %s: %w", s.name, err)
	}
	logr.FromContextOrDiscard(ctx).Info("Fetch failed, using cached recipe", "recipe", s.name, "url", s.url, "error", ferr.Error())
	return nil
}

// LastFetch returns when this Source last fetched from its remote itself (a fetch of another
// process or an unforced Fetch within FetchInterval does not count); zero when it never did.
func (s *Source) LastFetch() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastFetch
}

// setStale records the verdict of the fetch that left the stamp at stamped.
func (s *Source) setStale(err error, stamped time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetchErr, s.verdictOf = err, stamped
}

// fresh reports whether an unforced Fetch would neither fetch nor learn a new verdict: the
// last fetch, by any process, is the one this Source took its verdict from, and it is younger
// than FetchInterval. Any fetch since changed the stamp.
func (s *Source) fresh(stamp string) bool {
	if s.opts.FetchInterval <= 0 {
		return false
	}
	st, err := os.Stat(stamp)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.verdictOf.IsZero() && st.ModTime().Equal(s.verdictOf) && time.Since(st.ModTime()) < s.opts.FetchInterval
}

// readFetchError returns the error recorded by the last failed fetch, nil when there is none.
func readFetchError(path string) error {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return nil
	}
	return errors.New(string(data))
}

// gitRemote is git for commands that talk to the remote, bounded by FetchTimeout.
func (s *Source) gitRemote(ctx context.Context, gitDir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	out, err := git(ctx, gitDir, args...)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%w (timeout %s)", err, s.opts.FetchTimeout)
	}
	return out, err
}

func touch(path string) error {
	now := time.Now()
	err := os.Chtimes(path, now, now)
	if errors.Is(err, fs.ErrNotExist) {
		return os.WriteFile(path, nil, 0o644)
	}
	return err
}
