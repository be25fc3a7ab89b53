package recipe

import (
	"context"
	"errors"
	"time"
)

// DefaultFetchInterval is the FetchInterval used when Options leaves it zero: about one sweep.
const DefaultFetchInterval = 5 * time.Minute

// Options configure Open.
type Options struct {
	// CacheDir is the directory holding recipe mirrors and checked-out trees, normally
	// <state dir>/cache. Required.
	CacheDir string
	// FetchInterval is the minimum time between two unforced fetches of one source, shared by
	// every process using CacheDir. Optional. Defaults to DefaultFetchInterval; negative means
	// fetch on every call.
	FetchInterval time.Duration
}

// Source is one recipe repository mirrored in the cache. It is safe for concurrent use, also
// by several processes sharing the cache directory.
type Source struct {
	name string
	url  string
	opts Options
}

// Open returns the source of recipe name at url (https://, file://, ssh or a local path),
// cloning it into the cache when it is not there yet and removing trees of earlier processes
// that nobody uses any more. A failing clone with no cache to fall back to is an error naming
// the recipe and the URL.
func Open(ctx context.Context, name, url string, opts Options) (*Source, error) {
	return nil, errors.New("not implemented yet")
}

// Name returns the recipe name.
func (s *Source) Name() string { return s.name }

// URL returns the repository URL or path the source was opened with.
func (s *Source) URL() string { return s.url }

// Fetch updates the mirror from the remote unless it was fetched less than FetchInterval ago
// (by any process) and force is false. When the remote is unreachable but a cache exists, Fetch
// logs a warning (V(0), "Fetch failed, using cached recipe") and returns nil; the returned
// error is non-nil only when there is nothing usable.
func (s *Source) Fetch(ctx context.Context, force bool) error {
	return errors.New("not implemented yet")
}

// Versions returns the version tags of the mirror in ascending order, fetching first when the
// last fetch is older than FetchInterval. A repository without version tags is an error.
func (s *Source) Versions(ctx context.Context) (Versions, error) {
	return nil, errors.New("not implemented yet")
}

// Resolve returns the full commit id of ref: a tag, a branch, or a full or abbreviated commit
// id. When ref is unknown, pr > 0 and ref is not yet in the mirror, the pull request's head is
// fetched (refs/pull/<pr>/head, as GitHub and Gitea/Forgejo name it, else GitLab's
// refs/merge-requests/<pr>/head) and ref resolved again; ref "" then means the pull request's
// head. Errors name the recipe and every ref tried.
func (s *Source) Resolve(ctx context.Context, ref string, pr int) (string, error) {
	return "", errors.New("not implemented yet")
}

// Checkout is a read-only tree of one commit of a recipe, shared by everyone who checked out
// the same commit. Call Release when done with it.
type Checkout struct {
	// Dir is the absolute path of the tree. Files in it are read-only.
	Dir string
	// Commit is the full commit id.
	Commit string

	release func()
}

// Checkout returns the tree of commit (a full commit id, as returned by Resolve), creating it
// in the cache when no run in any process has it yet.
func (s *Source) Checkout(ctx context.Context, commit string) (*Checkout, error) {
	return nil, errors.New("not implemented yet")
}

// Release gives the tree back; the last user removes it. Calling it twice is harmless.
func (c *Checkout) Release() {
	if c.release != nil {
		c.release()
		c.release = nil
	}
}
