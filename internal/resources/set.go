package resources

import (
	"slices"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Origin is where an object is defined.
type Origin struct {
	// File is the path of the file as it was given or found.
	File string
	// Line is the line where the object's document starts.
	Line int
}

// Set is the objects of a resource tree, by kind and name, as written in the files (not
// defaulted). Objects that a file names but that are invalid are kept apart, with their
// errors, so that a controller can mark them Stalled instead of forgetting them.
type Set struct {
	objects map[v1.Key]v1.Object
	origins map[v1.Key]Origin
	invalid map[v1.Key][]error
}

func newSet() *Set {
	return &Set{objects: map[v1.Key]v1.Object{}, origins: map[v1.Key]Origin{}, invalid: map[v1.Key][]error{}}
}

// Get returns the valid object of key.
func (s *Set) Get(key v1.Key) (v1.Object, bool) {
	o, ok := s.objects[key]
	return o, ok
}

// RecipeTest returns the valid RecipeTest called name.
func (s *Set) RecipeTest(name string) (*v1.RecipeTest, bool) {
	o, ok := s.objects[v1.Key{Kind: v1.KindRecipeTest, Name: name}]
	if !ok {
		return nil, false
	}
	return o.(*v1.RecipeTest), true
}

// WarmCanonical returns the valid WarmCanonical called name.
func (s *Set) WarmCanonical(name string) (*v1.WarmCanonical, bool) {
	o, ok := s.objects[v1.Key{Kind: v1.KindWarmCanonical, Name: name}]
	if !ok {
		return nil, false
	}
	return o.(*v1.WarmCanonical), true
}

// RecipeTests returns the valid RecipeTests sorted by name.
func (s *Set) RecipeTests() []*v1.RecipeTest {
	var out []*v1.RecipeTest
	for _, k := range s.Keys() {
		if r, ok := s.objects[k].(*v1.RecipeTest); ok {
			out = append(out, r)
		}
	}
	return out
}

// WarmCanonicals returns the valid WarmCanonicals sorted by name.
func (s *Set) WarmCanonicals() []*v1.WarmCanonical {
	var out []*v1.WarmCanonical
	for _, k := range s.Keys() {
		if w, ok := s.objects[k].(*v1.WarmCanonical); ok {
			out = append(out, w)
		}
	}
	return out
}

// Keys returns the keys of the valid objects, sorted by kind then name.
func (s *Set) Keys() []v1.Key { return sortedKeys(s.objects) }

// Len returns the number of valid objects.
func (s *Set) Len() int { return len(s.objects) }

// Origin returns where the object of key is defined, valid or not.
func (s *Set) Origin(key v1.Key) (Origin, bool) {
	o, ok := s.origins[key]
	return o, ok
}

// InvalidKeys returns the keys of the objects that files name but that are invalid, sorted.
// Their errors are InvalidErrors(key).
func (s *Set) InvalidKeys() []v1.Key { return sortedKeys(s.invalid) }

// InvalidErrors returns the problems of an invalid object; nil when key is valid or unknown.
func (s *Set) InvalidErrors(key v1.Key) []error { return s.invalid[key] }

func (s *Set) markInvalid(key v1.Key, errs ...error) {
	delete(s.objects, key)
	s.invalid[key] = append(s.invalid[key], errs...)
}

func sortedKeys[V any](m map[v1.Key]V) []v1.Key {
	keys := make([]v1.Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b v1.Key) int {
		if a.Kind != b.Kind {
			return cmpString(a.Kind, b.Kind)
		}
		return cmpString(a.Name, b.Name)
	})
	return keys
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isInvalid reports whether a file defines key but its document is invalid.
func (s *Set) isInvalid(key v1.Key) bool {
	_, ok := s.invalid[key]
	return ok
}
