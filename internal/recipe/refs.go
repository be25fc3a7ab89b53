package recipe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// refs is a snapshot of a mirror's refs: every ref name with the commit it names (annotated
// tags peeled), read once per fetch and shared by every lookup until the mirror changes. A
// sweep over 2,000 warm apps of one recipe resolves 2,000 tags; from memory that costs no
// process, where one git rev-parse each cost about 20 ms.
type refs struct {
	// stamp is the modification time of the fetch stamp when the snapshot was taken: every
	// fetch of any process touches it, so another stamp means refs may have moved.
	stamp time.Time
	// commits maps full ref names (refs/tags/1.0.0+1.0, refs/heads/main) to peeled object ids.
	commits map[string]string
	// known holds every object id some ref peels to, to accept a full commit id as written.
	known    map[string]bool
	tags     []string
	versions Versions
}

// lookup returns the commit a full ref name peels to.
func (r *refs) lookup(name string) (string, bool) {
	c, ok := r.commits[name]
	return c, ok
}

// snapshot returns the refs of the mirror, reading them again only when a fetch (by this or any
// process) happened since the last read. The refs are read from git's files under a shared
// lock of the mirror (fetches hold it exclusively): packed-refs, peeled, once git has packed
// them; loose refs, which a fetch that changed something leaves, are packed first (one git
// process, only when refs changed). A ref store this does not understand (reftable) is read
// with for-each-ref.
func (s *Source) snapshot(ctx context.Context) (*refs, error) {
	s.refsMu.Lock()
	defer s.refsMu.Unlock()
	// No fetch finished since the snapshot: a fetch still running is as if it had not begun,
	// so the mirror's lock is not needed to know that (a sweep asks once per object).
	if stamp := fetchStamp(s.gitDir); s.refs != nil && !stamp.IsZero() && s.refs.stamp.Equal(stamp) {
		return s.refs, nil
	}
	lock, err := lockFile(ctx, filepath.Join(s.gitDir, lockName), lockShared)
	if err != nil {
		return nil, fmt.Errorf("read refs of recipe %s: %w", s.name, err)
	}
	stamp := fetchStamp(s.gitDir)
	if s.refs != nil && !stamp.IsZero() && s.refs.stamp.Equal(stamp) {
		lock.Close()
		return s.refs, nil
	}
	commits, ok, err := readRefFiles(s.gitDir)
	lock.Close()
	if err == nil && !ok {
		commits, err = s.packRefs(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("read refs of recipe %s: %w", s.name, err)
	}
	r := &refs{stamp: stamp, commits: commits, known: map[string]bool{}}
	for name, c := range commits {
		r.known[c] = true
		if tag, ok := strings.CutPrefix(name, "refs/tags/"); ok {
			r.tags = append(r.tags, tag)
		}
	}
	slices.Sort(r.tags)
	r.versions = NewVersions(r.tags)
	s.refs = r
	return r, nil
}

// forgetRefs drops the snapshot after this process changed refs without a fetch stamp (a pull
// request's head).
func (s *Source) forgetRefs() {
	s.refsMu.Lock()
	defer s.refsMu.Unlock()
	s.refs = nil
}

func fetchStamp(gitDir string) time.Time {
	st, err := os.Stat(filepath.Join(gitDir, fetchedName))
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// packRefs packs the loose refs under the mirror's exclusive lock and reads them again; when
// the files still cannot be read, for-each-ref answers.
func (s *Source) packRefs(ctx context.Context) (map[string]string, error) {
	lock, err := lockFile(ctx, filepath.Join(s.gitDir, lockName), lockExclusive)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if _, err := git(ctx, s.gitDir, "pack-refs", "--all", "--prune"); err != nil {
		return nil, err
	}
	commits, ok, err := readRefFiles(s.gitDir)
	if err != nil || ok {
		return commits, err
	}
	return s.forEachRef(ctx)
}

// forEachRef reads every ref with its peeled commit through git.
func (s *Source) forEachRef(ctx context.Context) (map[string]string, error) {
	out, err := git(ctx, s.gitDir, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)")
	if err != nil {
		return nil, err
	}
	commits := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch len(f) {
		case 2:
			commits[f[0]] = f[1]
		case 3:
			commits[f[0]] = f[2]
		}
	}
	return commits, nil
}

// readRefFiles reads packed-refs with its peeled lines. ok is false when refs cannot be known
// from that file alone: loose refs exist, the file was written without peeled lines, or the
// repository keeps refs in another format.
func readRefFiles(gitDir string) (commits map[string]string, ok bool, err error) {
	if _, err := os.Stat(filepath.Join(gitDir, "reftable")); err == nil {
		return nil, false, nil
	}
	loose, err := hasLooseRefs(filepath.Join(gitDir, "refs"))
	if err != nil || loose {
		return nil, false, err
	}
	data, err := os.ReadFile(filepath.Join(gitDir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, true, nil // no refs at all
	}
	if err != nil {
		return nil, false, err
	}
	return parsePackedRefs(data)
}

// hasLooseRefs reports whether any ref is stored as a file of its own under dir.
func hasLooseRefs(dir string) (bool, error) {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return found
		}
		return nil
	})
	if errors.Is(err, found) {
		return true, nil
	}
	return false, err
}

// parsePackedRefs parses git's packed-refs: a header naming its traits, "<oid> <refname>"
// lines, each optionally followed by "^<peeled oid>" when the ref is an annotated tag. Without
// the "peeled" trait an annotated tag cannot be told from a commit: ok is false.
func parsePackedRefs(data []byte) (map[string]string, bool, error) {
	commits := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	last := ""
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		switch {
		case first && strings.HasPrefix(line, "# pack-refs with:"):
			if !slices.Contains(strings.Fields(strings.TrimPrefix(line, "# pack-refs with:")), "peeled") {
				return nil, false, nil
			}
			continue
		case first:
			return nil, false, nil // written by a git too old to record its traits
		case strings.HasPrefix(line, "^"):
			if last == "" {
				return nil, false, fmt.Errorf("packed-refs: peeled line without a ref")
			}
			commits[last] = strings.TrimPrefix(line, "^")
			continue
		case line == "":
			continue
		}
		oid, name, found := strings.Cut(line, " ")
		if !found || !commitID.MatchString(oid) {
			return nil, false, fmt.Errorf("packed-refs: malformed line")
		}
		commits[name], last = oid, name
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("packed-refs: %w", err)
	}
	return commits, true, nil
}
