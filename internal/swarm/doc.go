// Package swarm owns every conversation with the Docker Engine API: it loads a recipe's compose
// files and converts them exactly as `docker stack deploy` does (docker/cli's compose loader and
// convert packages), deploys the result natively and idempotently with abra's labels, observes all
// stacks in at most two API calls, waits for convergence with early failure, runs commands and
// copies files in a stack's containers, and removes stacks. It must not shell out to docker or
// abra, decide what version should run (that is the controllers' job), or leak Docker types
// beyond the compose Config carried by Stack; no other package imports Docker.
package swarm
