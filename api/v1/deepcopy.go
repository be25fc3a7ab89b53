package v1

import "encoding/json"

// DeepCopy returns an independent copy of r.
func (r *RecipeTest) DeepCopy() *RecipeTest {
	out := new(RecipeTest)
	copyJSON(r, out)
	return out
}

// DeepCopy returns an independent copy of w.
func (w *WarmCanonical) DeepCopy() *WarmCanonical {
	out := new(WarmCanonical)
	copyJSON(w, out)
	return out
}

// DeepCopyObject returns an independent copy of r.
func (r *RecipeTest) DeepCopyObject() Object { return r.DeepCopy() }

// DeepCopyObject returns an independent copy of w.
func (w *WarmCanonical) DeepCopyObject() Object { return w.DeepCopy() }

// GetKey returns the kind and name of r.
func (r *RecipeTest) GetKey() Key { return Key{Kind: KindRecipeTest, Name: r.Metadata.Name} }

// GetKey returns the kind and name of w.
func (w *WarmCanonical) GetKey() Key { return Key{Kind: KindWarmCanonical, Name: w.Metadata.Name} }

// copyJSON copies through JSON: the types are small and plain, and a JSON round trip cannot
// miss a field the way a hand-written copy can when a field is added.
func copyJSON(in, out any) {
	b, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		panic("deep copy: " + err.Error())
	}
}
