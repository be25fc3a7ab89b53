// Package integration holds the end-to-end Ginkgo suites that run against a real Docker daemon
// in swarm mode (every test file carries the build tag "integration"; `make test` sets it). The
// suite set-up checks the daemon and builds the sample images; each spec labels what it
// creates with v1.LabelTestSuite = the suite's random id and removes it, because other suites
// share the daemon. Specs never fake Docker and never remove objects they did not create.
package integration
