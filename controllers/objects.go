package controllers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/reconcile"
)

// InvalidError says that the document defining an object is invalid; it holds the parser's
// messages, which name file, line, object and field.
type InvalidError struct {
	// Key is the object.
	Key v1.Key
	// Errors are the problems, as api/v1 reports them.
	Errors v1.Errors
}

// Error returns the parser's messages, one per line.
func (e *InvalidError) Error() string { return e.Errors.Error() }

// Dir is the Objects of a resources directory: every *.yaml and *.yml file under it, re-read
// when its size or modification time changes, so a sweep over many objects parses each file
// once.
type Dir struct {
	// Root is the resources directory.
	Root string

	mu    sync.Mutex
	files map[string]*parsedFile
}

type parsedFile struct {
	size    int64
	modTime time.Time
	docs    []v1.Document
	errs    v1.Errors
}

type entry struct {
	obj  v1.Object
	errs v1.Errors
}

// Get returns kind/name; see Objects.Get. An object defined in two files is invalid.
func (d *Dir) Get(kind, name string) (v1.Object, error) {
	all, err := d.load()
	if err != nil {
		return nil, err
	}
	e, ok := all[v1.Key{Kind: kind, Name: name}]
	if !ok {
		return nil, nil
	}
	if len(e.errs) > 0 {
		return nil, &InvalidError{Key: v1.Key{Kind: kind, Name: name}, Errors: e.errs}
	}
	return e.obj.DeepCopyObject(), nil
}

// List returns the names of kind; see Objects.List.
func (d *Dir) List(kind string) ([]string, error) {
	all, err := d.load()
	if err != nil {
		return nil, err
	}
	var names []string
	for k := range all {
		if k.Kind == kind && k.Name != "" {
			names = append(names, k.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// load returns every key of the tree with its object or errors.
func (d *Dir) load() (map[v1.Key]*entry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files == nil {
		d.files = map[string]*parsedFile{}
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(d.Root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != d.Root && reconcile.IgnoreEditorFiles(de.Name()) {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.IsDir() || !isResourceFile(de.Name()) {
			return nil
		}
		seen[path] = true
		return d.parse(path)
	})
	if err != nil {
		return nil, fmt.Errorf("read resources %q: %w", d.Root, err)
	}
	all := map[v1.Key]*entry{}
	where := map[v1.Key]string{}
	for path := range d.files {
		if !seen[path] {
			delete(d.files, path)
		}
	}
	paths := make([]string, 0, len(d.files))
	for p := range d.files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, path := range paths {
		for _, doc := range d.files[path].docs {
			if doc.Key.Kind == "" || doc.Key.Name == "" {
				continue
			}
			if first, dup := where[doc.Key]; dup {
				all[doc.Key].errs = append(all[doc.Key].errs, &v1.Error{File: path, Line: doc.Line, Document: doc.Index, Kind: doc.Key.Kind, Name: doc.Key.Name,
					Field: "metadata.name", Detail: fmt.Sprintf("also defined in %s (valid: names unique per kind across files)", first)})
				continue
			}
			where[doc.Key] = path
			all[doc.Key] = &entry{obj: doc.Object, errs: doc.Errors}
		}
	}
	return all, nil
}

func (d *Dir) parse(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walking
		}
		return err
	}
	if f, ok := d.files[path]; ok && f.size == fi.Size() && f.modTime.Equal(fi.ModTime()) {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	docs, errs := v1.ParseDocuments(path, data)
	d.files[path] = &parsedFile{size: fi.Size(), modTime: fi.ModTime(), docs: docs, errs: errs}
	return nil
}

func isResourceFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// ParseKeys is the reconcile.ParseFunc of the resources directory: the keys of a file's
// documents, invalid ones included, so the watcher enqueues an object whose file broke.
func ParseKeys(path string, data []byte) map[reconcile.Request]string {
	if !isResourceFile(path) {
		return nil
	}
	docs, _ := v1.ParseDocuments(path, data)
	keys := map[reconcile.Request]string{}
	for _, doc := range docs {
		if doc.Key.Kind != "" && doc.Key.Name != "" {
			keys[reconcile.Request{Kind: doc.Key.Kind, Name: doc.Key.Name}] = doc.Digest
		}
	}
	return keys
}

// invalid turns the field errors of Validate into an InvalidError. Parse has validated every
// object it returns already, so this only guards objects that reach a reconciler another way.
func invalid(key v1.Key, errs v1.FieldErrors) *InvalidError {
	e := &InvalidError{Key: key}
	for _, fe := range errs {
		e.Errors = append(e.Errors, &v1.Error{File: "(resources)", Kind: key.Kind, Name: key.Name, Field: fe.Field, Detail: fe.Detail})
	}
	return e
}
