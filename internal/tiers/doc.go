// Package tiers owns test runs: it takes one recipe at one candidate ref and runs its test tiers
// (lint, install, custom, backup, restore, upgrade — in that order, whatever the spec's order) on
// throw-away stacks named ccci_<recipe>_<run>[_up], labelled with the run id and role test, with
// their own generated secrets and the spec's env templated with {{ .Stack }}. It writes a log
// per tier and the backup archives into the run directory, returns the run record
// (api/v1 Run) with a verdict that is Passed only when no tier failed and install ran, always
// removes its stacks with their volumes, secrets and configs, and collects stacks a crashed
// process left. A run makes at most four deploys: install deploys the candidate on the main
// stack, which custom and backup use as it is; restore removes that stack with its volumes and
// deploys the candidate on it again; upgrade deploys the base version on a second stack and the
// candidate over it, beside the main stack's tiers once install passed; lint deploys nothing.
// A custom tier with an image runs as a one-shot task on the main stack's networks
// (swarm.Client.RunJob) with the checkout read-only at /recipe and its /artifacts copied into
// the run directory; one without runs on the controller host, which only trusted refs may do.
// The package decides nothing about promotion and stores nothing but files in the run
// directory it is given; Docker stays behind internal/swarm and git behind internal/recipe.
package tiers
