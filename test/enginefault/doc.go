//go:build enginefault

// Package enginefault holds the suite that restarts the Docker daemon under a test run, to show
// that a failure of the engine ends the run Aborted, never red, leaves nothing behind once the
// engine is back, and that the next pass tests and promotes. It stops the machine's Docker
// daemon, so it runs alone, after every other suite (make test-enginefault, part of make test),
// under its own build tag.
package enginefault
