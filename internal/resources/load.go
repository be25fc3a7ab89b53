package resources

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Load reads resource files and directory trees. It returns the objects of every valid
// document and every problem found, as *v1.Error values with file, line, object and field: a
// bad file or document never stops the others from loading. An object defined in two places is
// reported naming both and is left out of the valid objects (it is in InvalidKeys), since
// picking one of the two would be a guess.
func Load(paths ...string) (*Set, []error) {
	set := newSet()
	files, errs := files(paths)
	for _, f := range files {
		data, err := ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs, fileErrs := v1.ParseDocuments(f, data)
		for _, d := range docs {
			errs = append(errs, set.add(f, d)...)
		}
		for _, e := range fileErrs {
			errs = append(errs, e)
		}
	}
	return set, append(errs, set.checkDependencies()...)
}

// add records one document and returns its problems.
func (s *Set) add(file string, d v1.Document) []error {
	var errs []error
	for _, e := range d.Errors {
		errs = append(errs, e)
	}
	if d.Key.Kind == "" || d.Key.Name == "" {
		return errs
	}
	if first, dup := s.origins[d.Key]; dup {
		if first.File == file {
			// ParseDocuments has reported the duplicate within the file.
			s.markInvalid(d.Key, errs...)
			return errs
		}
		e := &v1.Error{File: file, Line: d.Line, Document: d.Index, Kind: d.Key.Kind, Name: d.Key.Name, Field: "metadata.name",
			Detail: fmt.Sprintf("also defined in %s:%d (valid: each %s name once across all files)", first.File, first.Line, d.Key.Kind)}
		s.markInvalid(d.Key, e)
		return append(errs, e)
	}
	s.origins[d.Key] = Origin{File: file, Line: d.Line}
	if d.Object == nil {
		s.markInvalid(d.Key, errs...)
		return errs
	}
	s.objects[d.Key] = d.Object
	return errs
}

// Digests returns, for one file's content, a digest of each object it defines, by kind and
// name. The directory watcher compares them with the previous content of the file to learn
// which objects changed, appeared or disappeared. Invalid documents count too, under the key
// they could be read with, so that their object is marked Stalled rather than dropped; a file
// that cannot be parsed at all (binary, too large) defines no objects.
func Digests(file string, data []byte) map[v1.Key]string {
	docs, _ := v1.ParseDocuments(file, data)
	out := map[v1.Key]string{}
	for _, d := range docs {
		if d.Key.Kind != "" && d.Key.Name != "" {
			// A name defined twice in the file gets both digests, so an edit of either counts.
			out[d.Key] += d.Digest
		}
	}
	return out
}

// checkDependencies reports every WarmCanonical whose spec.dependsOn names no WarmCanonical, and
// every one on a cycle, naming the whole cycle; those objects are marked invalid (Stalled), as
// an order that cannot be met is the operator's to fix.
func (s *Set) checkDependencies() []error {
	var errs []error
	wcs := map[string]*v1.WarmCanonical{}
	for _, w := range s.WarmCanonicals() {
		wcs[w.Metadata.Name] = w
	}
	fail := func(name, field, format string, args ...any) {
		k := v1.Key{Kind: v1.KindWarmCanonical, Name: name}
		o := s.origins[k]
		e := &v1.Error{File: o.File, Line: o.Line, Kind: v1.KindWarmCanonical, Name: name, Field: field, Detail: fmt.Sprintf(format, args...)}
		errs = append(errs, e)
		delete(s.objects, k)
		s.markInvalid(k, e)
	}
	names := slices.Sorted(maps.Keys(wcs))
	for _, n := range names {
		for i, d := range wcs[n].Spec.DependsOn {
			if _, ok := wcs[d]; !ok && !s.isInvalid(v1.Key{Kind: v1.KindWarmCanonical, Name: d}) {
				fail(n, fmt.Sprintf("spec.dependsOn[%d]", i), "%q names no WarmCanonical (valid: one of %s)", d, strings.Join(names, ", "))
			}
		}
	}
	// Depth-first search; a back edge closes a cycle, reported on each of its members.
	state := map[string]int{} // 0 new, 1 on the path, 2 done
	var path []string
	var visit func(string)
	reported := map[string]bool{}
	visit = func(n string) {
		state[n] = 1
		path = append(path, n)
		for _, d := range wcs[n].Spec.DependsOn {
			if _, ok := wcs[d]; !ok {
				continue
			}
			switch state[d] {
			case 0:
				visit(d)
			case 1:
				cycle := append(slices.Clone(path[slices.Index(path, d):]), d)
				for _, m := range cycle[:len(cycle)-1] {
					if !reported[m] {
						reported[m] = true
						fail(m, "spec.dependsOn", "dependency cycle %s (valid: dependencies that end in an app depending on none)", strings.Join(cycle, " → "))
					}
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
	}
	for _, n := range names {
		if state[n] == 0 {
			visit(n)
		}
	}
	return errs
}
