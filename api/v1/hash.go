package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Hash returns a stable hash of the spec: the hex sha256 of its canonical JSON (struct fields in
// declaration order, map keys sorted). Call it on a defaulted spec, so that writing a default
// explicitly does not change the hash; RecipeTest.SpecHash does that for you.
func (s RecipeTestSpec) Hash() string { return hashJSON(s) }

// Hash returns a stable hash of the spec; see RecipeTestSpec.Hash.
func (s WarmCanonicalSpec) Hash() string { return hashJSON(s) }

// SpecHash returns the hash of the defaulted spec, leaving r unchanged: the value of
// status.observedGeneration.
func (r *RecipeTest) SpecHash() string {
	c := r.DeepCopy()
	c.Default()
	return c.Spec.Hash()
}

// SpecHash returns the hash of the defaulted spec, leaving w unchanged: the value of
// status.observedGeneration.
func (w *WarmCanonical) SpecHash() string {
	c := w.DeepCopy()
	c.Default()
	return c.Spec.Hash()
}

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Specs hold only strings, bools, slices, maps and durations: Marshal cannot fail.
		panic("hash spec: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
