package recipe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

// Checkout is a read-only tree of one commit of a recipe, shared by everyone who checked out
// the same commit. Call Release when done with it.
type Checkout struct {
	// Dir is the absolute path of the tree. Files and directories in it are read-only.
	Dir string
	// Commit is the full commit id.
	Commit string
	// Recipe is the name of the recipe, for messages.
	Recipe string

	once    sync.Once
	release func()
	memo    *contentsMemo // contents read from the tree while the source keeps it
}

// Contents reads the tree with ReadContents; errors name the recipe, the version and the
// commit.
func (c *Checkout) Contents(composeFiles []string, version string) (*Contents, error) {
	contents, err := c.memo.read(c.Dir, composeFiles, version)
	if err != nil {
		short := c.Commit[:min(len(c.Commit), 12)]
		at := version
		if at == "" {
			at = "commit " + short
		} else {
			at += " (commit " + short + ")"
		}
		return nil, fmt.Errorf("recipe %s %s: %w", c.Recipe, at, err)
	}
	return contents, nil
}

// Release gives the tree back; when no run in any process uses it any more it is removed.
// Calling it more than once is harmless.
func (c *Checkout) Release() {
	c.once.Do(func() {
		if c.release != nil {
			c.release()
		}
	})
}

// A tree <trees>/<commit> is guarded by the lock file <trees>/<commit>.lock: every process
// using the tree holds a shared flock on it (one per process, counted in treeUses), the
// process that creates or removes the tree holds it exclusively. So a tree is removed only
// when no process holds it, and cleaning up after a crashed process is just trying an
// exclusive lock.
var (
	treeMu   sync.Mutex
	treeUses = map[string]*treeUse{} // by tree directory
)

type treeUse struct {
	ready chan struct{} // closed once lock/err are set
	lock  *os.File
	err   error
	n     int
}

var commitID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// Checkout returns the tree of commit (a full commit id, as returned by Resolve), creating it
// in the cache when no run in any process has it yet.
func (s *Source) Checkout(ctx context.Context, commit string) (*Checkout, error) {
	if !commitID.MatchString(commit) {
		return nil, fmt.Errorf("recipe %s: checkout %q: want a full commit id, as returned by Resolve", s.name, commit)
	}
	co, err := s.checkout(ctx, commit)
	if err == nil {
		co.memo = s.keep(ctx, commit)
	}
	return co, err
}

// checkout is Checkout without keeping the tree (treecache.go).
func (s *Source) checkout(ctx context.Context, commit string) (*Checkout, error) {
	dir := filepath.Join(s.treesDir, commit)
	for {
		u, err := s.use(ctx, dir, commit)
		if err == nil {
			return &Checkout{Dir: dir, Commit: commit, Recipe: s.name, release: func() { s.release(dir, u) }}, nil
		}
		// A failure of another goroutine's attempt (say, its context ended) is not ours:
		// try again, unless our own context has ended too.
		if u != nil || ctx.Err() != nil {
			return nil, err
		}
	}
}

// use counts one more use of the tree in this process, creating or locking it when this is the
// first. It returns the use on success, the use and an error when this goroutine's own attempt
// failed, and nil and an error when it waited for another goroutine that failed.
func (s *Source) use(ctx context.Context, dir, commit string) (*treeUse, error) {
	treeMu.Lock()
	u := treeUses[dir]
	if u != nil {
		u.n++
		treeMu.Unlock()
		select {
		case <-u.ready:
		case <-ctx.Done():
			s.release(dir, u)
			return u, fmt.Errorf("recipe %s: checkout %s: %w", s.name, commit, ctx.Err())
		}
		if u.err != nil {
			return nil, u.err
		}
		return u, nil
	}
	u = &treeUse{ready: make(chan struct{}), n: 1}
	treeUses[dir] = u
	treeMu.Unlock()
	u.lock, u.err = s.acquireTree(ctx, dir, commit)
	if u.err != nil {
		treeMu.Lock()
		delete(treeUses, dir)
		treeMu.Unlock()
	}
	close(u.ready)
	return u, u.err
}

// release drops one use of a tree; the last user in this process drops the shared lock and
// removes the tree unless another process still holds it.
func (s *Source) release(dir string, u *treeUse) {
	treeMu.Lock()
	if treeUses[dir] != u {
		// Its creation failed and it was dropped; nothing is held.
		treeMu.Unlock()
		return
	}
	u.n--
	if u.n > 0 {
		treeMu.Unlock()
		return
	}
	delete(treeUses, dir)
	treeMu.Unlock()
	<-u.ready
	if u.lock == nil {
		return
	}
	u.lock.Close()
	_, _ = s.removeTreeIfUnused(dir)
}

// acquireTree returns the shared lock of a tree that exists, creating the tree under the
// exclusive lock when it does not. Between dropping the exclusive lock and taking the shared
// one another process may remove the tree again; then it goes round once more.
func (s *Source) acquireTree(ctx context.Context, dir, commit string) (*os.File, error) {
	for {
		shared, err := lockFile(ctx, dir+".lock", lockShared)
		if err != nil {
			return nil, fmt.Errorf("recipe %s: checkout %s: %w", s.name, commit, err)
		}
		if _, err := os.Stat(dir); err == nil {
			return shared, nil
		}
		shared.Close()
		if err := s.createTree(ctx, dir, commit); err != nil {
			return nil, err
		}
	}
}

func (s *Source) createTree(ctx context.Context, dir, commit string) error {
	excl, err := lockFile(ctx, dir+".lock", lockExclusive)
	if err != nil {
		return fmt.Errorf("recipe %s: checkout %s: %w", s.name, commit, err)
	}
	defer excl.Close()
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if _, err := git(ctx, s.gitDir, "cat-file", "-e", "--", commit+"^{commit}"); err != nil {
		return fmt.Errorf("recipe %s: checkout %s: commit is not in the mirror of %s (resolve it first): %w", s.name, commit, s.url, err)
	}
	tmp := dir + ".tmp"
	if err := removeTree(tmp); err != nil {
		return fmt.Errorf("recipe %s: checkout %s: %w", s.name, commit, err)
	}
	if err := s.extract(ctx, tmp, commit); err != nil {
		_ = removeTree(tmp)
		return fmt.Errorf("recipe %s: checkout %s: %w", s.name, commit, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = removeTree(tmp)
		return fmt.Errorf("recipe %s: checkout %s: %w", s.name, commit, err)
	}
	logr.FromContextOrDiscard(ctx).V(1).Info("Checked out recipe", "recipe", s.name, "commit", commit)
	return nil
}

// removeTree removes a read-only tree: directories get their write bit back first.
func removeTree(dir string) error {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// removeTreeIfUnused removes a tree, its leftovers and its lock file when no process holds
// the lock; false when someone does.
func (s *Source) removeTreeIfUnused(dir string) (bool, error) {
	excl, err := tryLockFile(dir+".lock", lockExclusive)
	if err != nil || excl == nil {
		return false, err
	}
	defer excl.Close()
	if err := removeTree(dir + ".tmp"); err != nil {
		return false, err
	}
	if err := removeTree(dir); err != nil {
		return false, err
	}
	// Removed while locked: a process waiting on this file sees it is gone and starts over.
	if err := os.Remove(dir + ".lock"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

// cleanTrees removes trees of this recipe that no process uses, left behind by crashed
// processes or by Release calls that raced with another process.
func (s *Source) cleanTrees(ctx context.Context) error {
	entries, err := os.ReadDir(s.treesDir)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range entries {
		commit := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".lock"), ".tmp")
		if seen[commit] || !commitID.MatchString(commit) {
			continue
		}
		seen[commit] = true
		dir := filepath.Join(s.treesDir, commit)
		treeMu.Lock()
		inUse := treeUses[dir] != nil
		treeMu.Unlock()
		if inUse {
			continue
		}
		removed, err := s.removeTreeIfUnused(dir)
		if err != nil {
			return fmt.Errorf("clean tree %s: %w", commit, err)
		}
		if removed {
			logr.FromContextOrDiscard(ctx).V(1).Info("Removed unused recipe tree", "recipe", s.name, "commit", commit)
		}
	}
	return nil
}
