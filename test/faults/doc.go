//go:build faults

// Package faults holds the suites that break what the controller stands on and measure how it
// copes: a Docker daemon that hangs (its process stopped with SIGSTOP: the socket accepts and
// never answers), and a state directory whose disk is full (a small tmpfs mounted by the
// test). They run on a single-node swarm of their own, built with the rig
// of ../shared/multinode (prefix f26), whose daemon they may stop without touching the
// machine's; they take minutes, so they run alone under the faults build tag (make test-faults,
// part of make test).
package faults
