package controllers

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/resources"
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

// Dir is the Objects of a resources directory, loaded with internal/resources (the same rules
// as validate). The tree is loaded again only when a file's name, size or modification time
// changed, so a sweep over many objects parses each file once.
//
// A resource file is not the object's life: an object whose file turns unreadable, stops
// parsing, or vanishes keeps its last good spec (see Problem for why), and only a file read
// and parsed without the object, or absent for longer than Settle, forgets it. A process
// remembers the last good specs it saw; a fresh one starts from the files as they are.
type Dir struct {
	// Root is the resources directory.
	Root string
	// Settle is how long an object whose file is absent keeps its last good spec. Optional.
	// Defaults to DefaultSettle.
	Settle time.Duration
	// Now is the clock. Optional. Defaults to time.Now.
	Now func() time.Time

	mu   sync.Mutex
	sig  string
	set  *resources.Set
	good map[v1.Key]*lastGood
}

// Get returns kind/name; see Objects.Get.
func (d *Dir) Get(kind, name string) (v1.Object, error) {
	set, err := d.load()
	if err != nil {
		return nil, err
	}
	key := v1.Key{Kind: kind, Name: name}
	d.mu.Lock()
	kept, ok := d.lastGoodFor(key)
	d.mu.Unlock()
	if ok {
		return kept.DeepCopyObject(), nil
	}
	if errs := set.InvalidErrors(key); len(errs) > 0 {
		inv := &InvalidError{Key: key}
		for _, e := range errs {
			var ve *v1.Error
			if errors.As(e, &ve) {
				inv.Errors = append(inv.Errors, ve)
			} else {
				inv.Errors = append(inv.Errors, &v1.Error{Kind: kind, Name: name, Detail: e.Error()})
			}
		}
		return nil, inv
	}
	obj, ok := set.Get(key)
	if !ok {
		return nil, nil
	}
	return obj.DeepCopyObject(), nil
}

// List returns the names of kind, invalid objects included; see Objects.List.
func (d *Dir) List(kind string) ([]string, error) {
	set, err := d.load()
	if err != nil {
		return nil, err
	}
	keys := append(set.Keys(), set.InvalidKeys()...)
	d.mu.Lock()
	for k := range d.good {
		if _, ok := d.lastGoodFor(k); ok {
			keys = append(keys, k)
		}
	}
	d.mu.Unlock()
	var names []string
	for _, k := range keys {
		if k.Kind == kind && k.Name != "" && !slices.Contains(names, k.Name) {
			names = append(names, k.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

func (d *Dir) load() (*resources.Set, error) {
	var b strings.Builder
	present := map[string]bool{}
	err := filepath.WalkDir(d.Root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() || !resources.IsResourceFile(path) {
			return nil
		}
		fi, err := de.Info()
		if err != nil {
			return nil // removed while walking
		}
		present[path] = true
		fmt.Fprintf(&b, "%s\x00%d\x00%d\n", path, fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read resources %q: %w", d.Root, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.set != nil && d.sig == b.String() {
		return d.set, nil
	}
	// File errors (unreadable, binary) belong to no object; objects' errors are in the set.
	// Both decide which objects keep their last good spec.
	set, errs := resources.Load(d.Root)
	if d.good == nil {
		d.good = map[v1.Key]*lastGood{}
	}
	keepLastGood(d.good, set, errs, present, d.now(), d.settle())
	d.set, d.sig = set, b.String()
	return set, nil
}

// ParseKeys is the reconcile.ParseFunc of the resources directory: the keys of a file's
// objects, invalid ones included, so the watcher enqueues an object whose file broke.
func ParseKeys(path string, data []byte) map[reconcile.Request]string {
	if !resources.IsResourceFile(path) {
		return nil
	}
	keys := map[reconcile.Request]string{}
	for k, digest := range resources.Digests(path, data) {
		if k.Kind != "" && k.Name != "" {
			keys[reconcile.Request{Kind: k.Kind, Name: k.Name}] = digest
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

// GatedBy returns the names of the WarmCanonicals whose spec.recipeTest (defaulted) names
// recipeTest, sorted: the one place that knows which warm apps a RecipeTest gates. Invalid
// objects are left out.
func GatedBy(objects Objects, recipeTest string) []string {
	return warmCanonicalsWhere(objects, func(wc *v1.WarmCanonical) bool { return wc.Spec.RecipeTest == recipeTest })
}

// warmCanonicalsWhere returns the names of the valid, defaulted WarmCanonicals for which keep
// holds, sorted.
func warmCanonicalsWhere(objects Objects, keep func(*v1.WarmCanonical) bool) []string {
	names, err := objects.List(v1.KindWarmCanonical)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		obj, err := objects.Get(v1.KindWarmCanonical, n)
		wc, ok := obj.(*v1.WarmCanonical)
		if err != nil || !ok || wc == nil {
			continue
		}
		wc.Default()
		if keep(wc) {
			out = append(out, n)
		}
	}
	return out
}

// dependencies reads the stored status of each WarmCanonical of wc's spec.dependsOn: the
// facts Decide judges them by.
func (r *WarmCanonicalReconciler) dependencies(wc *v1.WarmCanonical) []Dependency {
	var out []Dependency
	for _, d := range wc.Spec.DependsOn {
		var st v1.WarmCanonicalStatus
		found, err := r.Store.Get(v1.KindWarmCanonical, d, &st)
		dep := Dependency{Name: d, Known: err == nil && found}
		dep.Ready, _ = st.Conditions.Get(v1.ConditionReady)
		out = append(out, dep)
	}
	return out
}

// Dependents returns the names of the WarmCanonicals whose spec.dependsOn names name, sorted.
func Dependents(objects Objects, name string) []string {
	return warmCanonicalsWhere(objects, func(wc *v1.WarmCanonical) bool { return slices.Contains(wc.Spec.DependsOn, name) })
}

// wakeDependents enqueues the dependents of name: its Ready changed, so theirs may.
func (r *WarmCanonicalReconciler) wakeDependents(name string) {
	if r.Wake == nil {
		return
	}
	for _, d := range Dependents(r.Objects, name) {
		r.Wake(reconcile.Request{Kind: v1.KindWarmCanonical, Name: d})
	}
}
