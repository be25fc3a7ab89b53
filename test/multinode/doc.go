//go:build multinode

// Package multinode holds the suite that runs the controller on a real 3-node swarm on this one
// machine (shared/multinode beside the repository: three dockerd in network namespaces, with
// fault injection): tests whose tasks run on a worker reach them through that node's endpoint,
// test stacks stay on their placement, and a node crash under a run is Aborted, not red. It
// builds the rig itself and tears it down whatever happens; make test-multinode runs it, after
// the other suites, under its own build tag.
package multinode
