// Package v1 holds the ccci.commoninternet.net/v1 resources, RecipeTest and WarmCanonical: their
// spec and status types, conditions and reasons, label keys, defaulting, validation and strict
// parsing from YAML. It does no I/O beyond reading the files it is asked to load, and it knows
// nothing about Swarm, git or the reconcile engine.
package v1
