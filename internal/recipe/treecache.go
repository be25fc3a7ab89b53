package recipe

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
)

// keptTree is a tree a Source keeps checked out (one use of its own) after its last user
// released it, with the contents read from it. Trees are content-addressed by commit, so a kept
// tree is never stale: a moved tag names another commit, hence another tree.
type keptTree struct {
	commit string
	co     *Checkout
	memo   *contentsMemo
}

// keep keeps the tree of commit, which the caller has checked out, among the source's
// KeepTrees most recently used ones, and returns the memo of its contents. The least recently
// used tree beyond the bound is given back: removed from disk once no run uses it.
func (s *Source) keep(ctx context.Context, commit string) *contentsMemo {
	limit := s.opts.KeepTrees
	if limit == 0 {
		limit = DefaultKeepTrees
	}
	if limit < 0 {
		return nil
	}
	s.keptMu.Lock()
	for i, k := range s.kept {
		if k.commit == commit {
			s.kept = append(append(s.kept[:i:i], s.kept[i+1:]...), k)
			s.keptMu.Unlock()
			return k.memo
		}
	}
	s.keptMu.Unlock()
	// The caller holds a use, so this one only counts: no process, no waiting.
	co, err := s.checkout(ctx, commit)
	if err != nil {
		return nil
	}
	s.keptMu.Lock()
	for _, k := range s.kept {
		if k.commit == commit { // kept by another goroutine meanwhile
			s.keptMu.Unlock()
			co.Release()
			return k.memo
		}
	}
	k := &keptTree{commit: commit, co: co, memo: &contentsMemo{}}
	s.kept = append(s.kept, k)
	var evicted []*keptTree
	if len(s.kept) > limit {
		n := len(s.kept) - limit
		evicted = slices.Clone(s.kept[:n])
		s.kept = slices.Delete(s.kept, 0, n)
	}
	s.keptMu.Unlock()
	for _, e := range evicted {
		e.co.Release()
	}
	return k.memo
}

// contentsMemo holds what ReadContents read from one tree, by compose file list and version.
// A nil memo reads every time.
type contentsMemo struct {
	mu    sync.Mutex
	byKey map[string]*Contents
}

func (m *contentsMemo) read(dir string, composeFiles []string, version string) (*Contents, error) {
	if m == nil {
		return ReadContents(dir, composeFiles, version)
	}
	key := strings.Join(composeFiles, "\x00") + "\x01" + version
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.byKey[key]; ok {
		return c.clone(), nil
	}
	c, err := ReadContents(dir, composeFiles, version)
	if err != nil {
		return nil, err
	}
	if m.byKey == nil {
		m.byKey = map[string]*Contents{}
	}
	m.byKey[key] = c
	return c.clone(), nil
}

// clone copies what a caller might change, so that callers never share maps or slices.
func (c *Contents) clone() *Contents {
	out := *c
	out.ComposeFiles = slices.Clone(c.ComposeFiles)
	out.Env = maps.Clone(c.Env)
	out.Secrets = maps.Clone(c.Secrets)
	return &out
}
