// Package controllers owns the reconcilers of the two kinds, WarmCanonical and RecipeTest: the
// pure decision of what a WarmCanonical needs next (Decide), the execution of that decision step
// by step with its status persisted after each step, the bounded pool that runs test runs and
// wakes the WarmCanonicals waiting on them, and the one-shot drivers (sweep, reconcile, trigger)
// the commands call. It reaches Swarm, recipes, the tier runner and the state directory only
// through the small ports in ports.go, so every decision is unit-tested with fakes; it must not
// import Docker, parse flags or print anything but what a caller asks it to write.
package controllers
