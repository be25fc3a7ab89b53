package v1

// Group, version and kinds of the resources this package defines.
const (
	// Group is the API group of every resource.
	Group = "ccci.commoninternet.net"
	// Version is the API version of this package.
	Version = "v1"
	// APIVersion is the value of apiVersion in every resource file: Group/Version.
	APIVersion = Group + "/" + Version

	// KindRecipeTest is the kind of RecipeTest objects.
	KindRecipeTest = "RecipeTest"
	// KindWarmCanonical is the kind of WarmCanonical objects.
	KindWarmCanonical = "WarmCanonical"
)

// Kinds lists the known kinds in the order they are documented.
var Kinds = []string{KindRecipeTest, KindWarmCanonical}

// Key identifies an object: its kind and its name. Names are unique per kind.
type Key struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// String returns kind/name, e.g. RecipeTest/gitea.
func (k Key) String() string { return k.Kind + "/" + k.Name }

// Object is implemented by *RecipeTest and *WarmCanonical.
type Object interface {
	// GetKey returns the kind and name of the object.
	GetKey() Key
	// Default fills every unset optional field with its default, in place.
	Default()
	// Validate returns every problem of the object, each with its field path. It works on a
	// defaulted or an undefaulted object.
	Validate() FieldErrors
	// SpecHash returns the hash of the defaulted spec; see RecipeTestSpec.Hash.
	SpecHash() string
	// DeepCopyObject returns an independent copy.
	DeepCopyObject() Object
}

// TypeMeta names the schema of a resource document.
type TypeMeta struct {
	// APIVersion is the schema version of the document. Allowed value:
	// ccci.commoninternet.net/v1. Required.
	APIVersion string `json:"apiVersion"`
	// Kind is the kind of the document: RecipeTest or WarmCanonical. Required.
	Kind string `json:"kind"`
}

// ObjectMeta is the metadata of an object.
type ObjectMeta struct {
	// Name identifies the object among the objects of its kind. A DNS-1123 label: at most 63
	// lower-case letters, digits and '-', starting and ending with a letter or digit. Required.
	Name string `json:"name"`
	// Labels are free-form key/value pairs for the operator's own grouping. Optional.
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are free-form notes for humans and tools. Optional.
	Annotations map[string]string `json:"annotations,omitempty"`
}
