package recipe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// DefaultFetchInterval is the FetchInterval used when Options leaves it zero: about one sweep.
const DefaultFetchInterval = 5 * time.Minute

// Options configure Open.
type Options struct {
	// CacheDir is the directory holding recipe mirrors and checked-out trees, normally
	// <state dir>/cache; this package owns everything in it. Required.
	CacheDir string
	// FetchInterval is the minimum time between two unforced fetches of one source, shared by
	// every process using CacheDir. Optional. Defaults to DefaultFetchInterval; negative means
	// fetch on every call.
	FetchInterval time.Duration
	// FetchTimeout bounds one clone or fetch from the remote, so a forge that hangs cannot
	// hold the mirror lock forever. Optional. Defaults to DefaultFetchTimeout.
	FetchTimeout time.Duration
	// KeepTrees is how many recently used trees of a source stay checked out after their last
	// user released them, so that every object and run needing a commit shares one extraction
	// and one reading of its contents. Optional. Defaults to DefaultKeepTrees; negative keeps
	// none.
	KeepTrees int
}

// DefaultKeepTrees is the KeepTrees used when Options leaves it zero: a recipe's newest few
// versions, a few MiB on disk for a typical recipe.
const DefaultKeepTrees = 4

// DefaultFetchTimeout is the FetchTimeout used when Options leaves it zero.
const DefaultFetchTimeout = 2 * time.Minute

// Source is one recipe repository mirrored in the cache. It is safe for concurrent use, also
// by several processes sharing the cache directory.
//
// Cache layout: <CacheDir>/<recipe>/git/<hash of url>/ is a bare repository fetching branches
// and tags of the url (so two sources of one recipe name, say a fork, never mix their tags);
// <CacheDir>/<recipe>/trees/<commit>/ are checked-out trees, shared by both.
type Source struct {
	name   string
	url    string // as given, for messages
	remote string // what git fetches: url, or the absolute form of a local path
	opts   Options

	dir      string // <CacheDir>/<recipe>
	gitDir   string
	treesDir string

	mu        sync.Mutex
	fetchErr  error     // last fetch failure that fell back to the cache
	lastFetch time.Time // when this process last ran a fetch of the source
	// verdictOf is the fetch stamp's modification time when fetchErr was last set: while
	// the stamp is that one and young enough, an unforced Fetch has nothing to learn.
	verdictOf time.Time

	refsMu sync.Mutex
	refs   *refs // refs as of the last fetch (refs.go)

	keptMu sync.Mutex
	kept   []*keptTree // trees kept checked out, least recently used first (treecache.go)
}

// Files inside a mirror next to git's own.
const (
	lockName       = "ccci.lock"        // flock held while the mirror is written
	fetchedName    = "ccci.fetched"     // modification time = last fetch attempt
	fetchErrorName = "ccci.fetch-error" // error of the last fetch attempt, absent after a success
)

// Open returns the source of recipe name at url (https://, ssh, file:// or a local path),
// cloning it into the cache when it is not there yet, and removes trees of earlier processes
// that nobody uses any more. A failing clone is an error naming the recipe and the URL; a
// failing fetch with a cache to fall back to is logged and Open succeeds.
func Open(ctx context.Context, name, url string, opts Options) (*Source, error) {
	if name == "" || name == "." || !filepath.IsLocal(name) || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("open recipe %q: name must be a single path element", name)
	}
	if url == "" {
		return nil, fmt.Errorf("open recipe %s: no repository URL or path given", name)
	}
	if opts.CacheDir == "" {
		return nil, fmt.Errorf("open recipe %s: no cache directory given", name)
	}
	if opts.FetchInterval == 0 {
		opts.FetchInterval = DefaultFetchInterval
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	remote, err := remoteOf(url)
	if err != nil {
		return nil, fmt.Errorf("open recipe %s: %w", name, err)
	}
	if err := useGitHome(opts.CacheDir); err != nil {
		return nil, fmt.Errorf("open recipe %s: %w", name, err)
	}
	sum := sha256.Sum256([]byte(remote))
	dir := filepath.Join(opts.CacheDir, name)
	s := &Source{
		name: name, url: url, remote: remote, opts: opts, dir: dir,
		gitDir:   filepath.Join(dir, "git", hex.EncodeToString(sum[:8])),
		treesDir: filepath.Join(dir, "trees"),
	}
	if err := os.MkdirAll(s.treesDir, 0o755); err != nil {
		return nil, fmt.Errorf("open recipe %s: %w", name, err)
	}
	if err := s.ensureMirror(ctx); err != nil {
		return nil, err
	}
	if err := s.Fetch(ctx, false); err != nil {
		return nil, err
	}
	if err := s.cleanTrees(ctx); err != nil {
		return nil, fmt.Errorf("open recipe %s: %w", name, err)
	}
	return s, nil
}

// remoteOf turns a local path into an absolute one (the daemon's working directory is not the
// operator's) and leaves URLs, including scp-like user@host:path, alone.
func remoteOf(url string) (string, error) {
	if strings.Contains(url, "://") {
		return url, nil
	}
	if i := strings.IndexByte(url, ':'); i > 0 && !strings.Contains(url[:i], "/") {
		return url, nil
	}
	abs, err := filepath.Abs(url)
	if err != nil {
		return "", fmt.Errorf("repository path %q: %w", url, err)
	}
	return abs, nil
}

// Name returns the recipe name.
func (s *Source) Name() string { return s.name }

// URL returns the repository URL or path the source was opened with.
func (s *Source) URL() string { return s.url }

// Stale returns the error of the last fetch that failed and fell back to the cache, or nil
// when the last fetch succeeded. Callers can show it in a status message.
func (s *Source) Stale() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetchErr
}

// ensureMirror creates the bare mirror on first use. It is initialised and fetched under a
// temporary name and renamed into place, so a crash never leaves a half-made mirror behind.
func (s *Source) ensureMirror(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.gitDir, "HEAD")); err == nil {
		return s.checkRemote(ctx)
	}
	parent := filepath.Dir(s.gitDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("open recipe %s: %w", s.name, err)
	}
	unlock, err := lockFile(ctx, s.gitDir+".lock", lockExclusive)
	if err != nil {
		return fmt.Errorf("open recipe %s: %w", s.name, err)
	}
	defer unlock.Close()
	if _, err := os.Stat(filepath.Join(s.gitDir, "HEAD")); err == nil {
		return nil // another process cloned it while we waited
	}
	tmp := s.gitDir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("open recipe %s: %w", s.name, err)
	}
	defer os.RemoveAll(tmp)
	if _, err := git(ctx, "", "init", "--quiet", "--bare", "--", tmp); err != nil {
		return fmt.Errorf("recipe %s: clone %s: %w", s.name, s.url, err)
	}
	steps := [][]string{
		{"config", "--", "remote.origin.url", s.remote},
		{"config", "--", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"},
		{"config", "--add", "--", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"},
		// Run automatic gc inside the locked fetch instead of a detached process that outlives it.
		{"config", "--", "gc.autoDetach", "false"},
		{"fetch", "--quiet", "--prune", "--prune-tags", "--no-write-fetch-head", "--", "origin"},
	}
	for _, args := range steps {
		if _, err := s.gitRemote(ctx, tmp, args...); err != nil {
			return fmt.Errorf("recipe %s: clone %s: %w", s.name, s.url, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, fetchedName), nil, 0o644); err != nil {
		return fmt.Errorf("open recipe %s: %w", s.name, err)
	}
	if err := os.Rename(tmp, s.gitDir); err != nil {
		return fmt.Errorf("open recipe %s: %w", s.name, err)
	}
	logr.FromContextOrDiscard(ctx).V(1).Info("Cloned recipe", "recipe", s.name, "url", s.url)
	return nil
}

// checkRemote guards against a mirror whose configured remote differs from ours (the cache
// key is a hash, so this only happens when someone edited the mirror by hand).
func (s *Source) checkRemote(ctx context.Context) error {
	got, ok := originURL(s.gitDir)
	if !ok {
		out, err := git(ctx, s.gitDir, "config", "--", "remote.origin.url")
		if err != nil {
			return fmt.Errorf("open recipe %s: read cached mirror %s: %w", s.name, s.gitDir, err)
		}
		got = strings.TrimSpace(out)
	}
	if got != s.remote {
		return fmt.Errorf("open recipe %s: cached mirror %s fetches %s, not %s", s.name, s.gitDir, got, s.remote)
	}
	return nil
}

// originURL reads remote.origin.url from the mirror's config file as ensureMirror wrote it, so
// that opening a source starts no process; false when the file holds anything but the plain
// form (quoted or escaped values, includes), which git config then reads.
func originURL(gitDir string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(gitDir, "config"))
	if err != nil {
		return "", false
	}
	section, url, found := "", "", false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			if strings.HasPrefix(strings.ToLower(line), "[include") {
				return "", false
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if section != `[remote "origin"]` || !ok || !strings.EqualFold(strings.TrimSpace(k), "url") {
			continue
		}
		v = strings.TrimSpace(v)
		if found || v == "" || strings.ContainsAny(v, `"\;#`) {
			return "", false
		}
		url, found = v, true
	}
	return url, found
}

// Versions returns the version tags of the mirror in ascending order, fetching first when the
// last fetch is older than FetchInterval. A repository without version tags is an error that
// lists a few of the tags it does have.
func (s *Source) Versions(ctx context.Context) (Versions, error) {
	if err := s.Fetch(ctx, false); err != nil {
		return nil, err
	}
	r, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	tags, vs := r.tags, slices.Clone(r.versions)
	if len(vs) == 0 {
		seen := "it has no tags"
		if len(tags) > 0 {
			seen = "tags seen: " + strings.Join(tags[:min(len(tags), 5)], ", ")
		}
		return nil, fmt.Errorf("recipe %s (%s) has no version tags of the form MAJOR.MINOR.PATCH+UPSTREAM (%s)", s.name, s.url, seen)
	}
	return vs, nil
}

// Version returns the version whose tag is exactly tag; the error names the recipe and lists
// its newest five tags.
func (s *Source) Version(ctx context.Context, tag string) (Version, error) {
	vs, err := s.Versions(ctx)
	if err != nil {
		return Version{}, err
	}
	v, err := vs.Find(tag)
	var nf *VersionNotFoundError
	if errors.As(err, &nf) {
		nf.Recipe = s.name
	}
	return v, err
}
