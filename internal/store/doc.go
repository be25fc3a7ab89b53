// Package store owns the controller's state directory: the status of each object as a JSON
// file, the bounded run history of each RecipeTest with each run's log directory, and the
// per-object lock files that keep the daemon and a one-shot command from driving the same
// object at once. Every write is atomic (a kill at any instant leaves the old or the new file,
// never a torn one), and a file that cannot be read is moved aside and reported, never a crash.
// It stores opaque JSON: it must not import api/v1 or know what a status means, and it never
// writes the operator's desired-state files.
package store
