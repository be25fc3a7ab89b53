// Package v1 holds the ccci.commoninternet.net/v1 resources, RecipeTest and WarmCanonical: their
// spec and status types, conditions and reasons, label keys, defaulting, validation, spec hashes
// and strict parsing of YAML bytes into objects with errors that name the file, the object, the
// field and what would be valid. It does no I/O (internal/resources reads files and trees), and
// it knows nothing about Swarm, git or the reconcile engine.
package v1

//go:generate go run ../../hack/schemagen -out ../../config/schema
