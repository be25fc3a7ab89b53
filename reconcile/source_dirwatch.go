package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"
)

// ParseFunc maps one file's content to the keys of the documents it holds, each with a digest
// of that document's parsed content (e.g. a hash of its canonical JSON), so formatting or
// comment edits that change no document cause no reconcile. It is called for every file under
// the tree that Ignore lets through, including files it does not care about (return nil), and
// must not fail: a file it cannot parse should still yield what it can, because an empty result
// makes DirWatch enqueue the file's former keys as gone. Reconcilers re-read the files anyway,
// so they see the parse error rather than trusting DirWatch's view.
type ParseFunc func(path string, data []byte) map[Request]string

// DirWatch is a Source that watches a directory tree of desired-state files with fsnotify. Its
// initial load parses every file and enqueues every key. Afterwards it enqueues exactly the keys
// whose documents changed: a key whose combined digest over all files differs after a change
// (added, edited, moved to a different content, or gone from every file, so its reconciler sees
// it deleted), and the keys of a file that cannot be read (its reconcilers say so). A git
// checkout of another commit thus enqueues exactly the objects that differ between the two. It watches every directory of the tree, including ones created later; follows
// editors that save by writing a temporary file and renaming it over the original; and
// debounces events so one save, or one burst of writes, is one reconcile.
type DirWatch struct {
	// Dir is the root of the tree. Required.
	Dir string
	// Parse maps a file's content to keys and digests. Required.
	Parse ParseFunc
	// Debounce is the quiet time after the last event before changed files are read. A
	// steady stream of events is still flushed every 10 × Debounce. Optional. Defaults to 100ms.
	Debounce time.Duration
	// Ignore reports whether a file or directory base name is skipped. Optional. Defaults to
	// IgnoreEditorFiles.
	Ignore func(name string) bool
}

// IgnoreEditorFiles skips hidden names (".git", vim's ".x.yaml.swp", emacs' ".#x.yaml" locks),
// backups ending in "~" and emacs auto-saves "#x.yaml#".
func IgnoreEditorFiles(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasPrefix(name, "#")
}

// Start loads and enqueues the whole tree, then watches it until ctx ends.
func (d *DirWatch) Start(ctx context.Context, q Enqueuer) error {
	if d.Dir == "" || d.Parse == nil {
		return errors.New("directory watch needs a Dir and a Parse function")
	}
	// A symlinked root (e.g. /etc/ccci/resources -> /nix/store/...) is resolved once: the walk
	// does not follow symlinks, and the watches must sit on the real directories.
	root, err := filepath.EvalSymlinks(d.Dir)
	if err == nil {
		root, err = filepath.Abs(root)
	}
	if err != nil {
		return fmt.Errorf("watch %q: %w", d.Dir, err)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %q: %w", root, err)
	}
	w := &dirWatcher{
		root:     root,
		parse:    d.Parse,
		ignore:   d.Ignore,
		debounce: d.Debounce,
		fs:       fsw,
		q:        q,
		log:      logr.FromContextOrDiscard(ctx).WithValues("source", "dirwatch", "dir", root),
		files:    map[string]map[Request]string{},
		index:    map[Request]map[string]string{},
	}
	if w.ignore == nil {
		w.ignore = IgnoreEditorFiles
	}
	if w.debounce <= 0 {
		w.debounce = 100 * time.Millisecond
	}
	pending := map[string]struct{}{}
	if err := w.addTree(root, pending); err != nil {
		fsw.Close()
		return fmt.Errorf("watch %q: %w", root, err)
	}
	w.flush(pending)
	go w.run(ctx)
	return nil
}

// dirWatcher is the state of one started DirWatch; only its run goroutine touches it after
// the initial load.
type dirWatcher struct {
	root     string
	parse    ParseFunc
	ignore   func(string) bool
	debounce time.Duration
	fs       *fsnotify.Watcher
	q        Enqueuer
	log      logr.Logger

	// files holds each file's keys and digests as last read; index is the same by key, so a
	// key's combined digest over all files is cheap to compute.
	files map[string]map[Request]string
	index map[Request]map[string]string
}

// run collects events into a set of changed paths and flushes it once events pause.
func (w *dirWatcher) run(ctx context.Context) {
	defer w.fs.Close()
	pending := map[string]struct{}{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var first time.Time // first unflushed event, to bound the wait under a steady stream
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			w.note(ev, pending)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Error(err, "Watch directory tree")
				continue
			}
			// The kernel dropped events; only a full rescan knows what changed.
			w.log.Info("Watch events overflowed, rescanning the tree")
			w.rescan(pending)
		case <-timer.C:
			w.flush(pending)
			clear(pending)
			first = time.Time{}
			continue
		}
		if len(pending) == 0 {
			continue
		}
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		timer.Reset(min(w.debounce, first.Add(10*w.debounce).Sub(now)))
	}
}

// note records the paths an event may have changed and follows new and removed directories.
func (w *dirWatcher) note(ev fsnotify.Event, pending map[string]struct{}) {
	if w.ignore(filepath.Base(ev.Name)) {
		return
	}
	switch {
	case ev.Has(fsnotify.Create):
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if err := w.addTree(ev.Name, pending); err != nil {
				w.log.Error(err, "Watch new directory", "path", ev.Name)
			}
			return
		}
		pending[ev.Name] = struct{}{}
	case ev.Has(fsnotify.Write):
		pending[ev.Name] = struct{}{}
	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
		// A removed or renamed-away directory takes its files with it; the directory's own
		// event is the only one that says so. If it moved within the tree, the Create of its
		// new name adds it back.
		pending[ev.Name] = struct{}{}
		prefix := ev.Name + string(filepath.Separator)
		for path := range w.files {
			if strings.HasPrefix(path, prefix) {
				pending[path] = struct{}{}
			}
		}
		for _, dir := range w.fs.WatchList() {
			if dir == ev.Name || strings.HasPrefix(dir, prefix) {
				_ = w.fs.Remove(dir) // already gone from the kernel's watch list when deleted
			}
		}
	}
}

// addTree watches dir and every directory below it and marks every file in them pending. The
// watch is added before a directory is listed, so a file created meanwhile is seen by either.
func (w *dirWatcher) addTree(dir string, pending map[string]struct{}) error {
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if path != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking; its Remove event follows
			}
			return err
		}
		if path != w.root && w.ignore(e.Name()) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			if err := w.fs.Add(path); err != nil {
				return fmt.Errorf("watch %q: %w", path, err)
			}
			return nil
		}
		pending[path] = struct{}{}
		return nil
	})
}

// rescan marks every known and every present file pending.
func (w *dirWatcher) rescan(pending map[string]struct{}) {
	for path := range w.files {
		pending[path] = struct{}{}
	}
	if err := w.addTree(w.root, pending); err != nil {
		w.log.Error(err, "Rescan directory tree")
	}
}

// flush re-reads the pending paths and enqueues every key whose combined digest changed.
func (w *dirWatcher) flush(pending map[string]struct{}) {
	read := make(map[string]map[Request]string, len(pending))
	affected := map[Request]struct{}{}
	for path := range pending {
		docs, ok := w.read(path)
		if !ok {
			// Its objects keep their last content here; their reconcilers re-read the
			// file and say it cannot be read.
			for k := range w.files[path] {
				w.q.Enqueue(k)
			}
			continue
		}
		read[path] = docs
		for k := range w.files[path] {
			affected[k] = struct{}{}
		}
		for k := range docs {
			affected[k] = struct{}{}
		}
	}
	before := make(map[Request]string, len(affected))
	for k := range affected {
		before[k] = w.digest(k)
	}
	for path, docs := range read {
		w.store(path, docs)
	}
	for k := range affected {
		if w.digest(k) != before[k] {
			w.q.Enqueue(k)
		}
	}
}

// read parses path; a missing file holds no documents. ok is false when the file could not be
// read for another reason and its last known content should stand.
func (w *dirWatcher) read(path string) (docs map[Request]string, ok bool) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true
	}
	if err != nil {
		w.log.Error(err, "Read desired-state file", "path", path)
		return nil, false
	}
	if fi.IsDir() {
		return nil, false // handled by addTree; never a document
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true
	}
	if err != nil {
		w.log.Error(err, "Read desired-state file", "path", path)
		return nil, false
	}
	return w.parse(path, data), true
}

// store replaces path's documents in files and index.
func (w *dirWatcher) store(path string, docs map[Request]string) {
	for k := range w.files[path] {
		delete(w.index[k], path)
		if len(w.index[k]) == 0 {
			delete(w.index, k)
		}
	}
	if len(docs) == 0 {
		delete(w.files, path)
		return
	}
	w.files[path] = docs
	for k, d := range docs {
		if w.index[k] == nil {
			w.index[k] = map[string]string{}
		}
		w.index[k][path] = d
	}
}

// digest combines a key's digests over all files, counting them so an empty digest still
// differs from absence. Paths are left out, so moving a document unchanged to another file is
// no change; a duplicate in a second file is one.
func (w *dirWatcher) digest(k Request) string {
	ds := make([]string, 0, len(w.index[k]))
	for _, d := range w.index[k] {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return fmt.Sprint(len(ds), ":", strings.Join(ds, "\x00"))
}
