// Package junit writes a test run as JUnit XML in the dialect that Jenkins, GitLab and the
// Drone/Woodpecker report plugins read: one testsuite per run, one testcase per tier, a failure
// for a Failed tier, skipped for Skipped and NotApplicable, and an error for an Aborted run
// (the infrastructure failed, the recipe was not judged). It only renders a run record and the
// log tails it is handed: it reads no file and decides nothing.
package junit
