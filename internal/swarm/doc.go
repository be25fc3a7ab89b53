// Package swarm owns every conversation with the Docker Engine API: it loads a recipe's compose
// files and converts them exactly as `docker stack deploy` does (docker/cli's compose loader and
// convert packages), deploys the result natively and idempotently with abra's labels, observes
// all stacks in two API calls, waits for convergence with early failure, runs commands and
// copies files in a stack's containers, and removes stacks. It must not shell out to docker or
// abra, decide which version should run (the controllers do), or let Docker types escape
// beyond the compose Config that Stack carries; no other package imports Docker.
//
// # Deploy
//
// Deploy follows docker/cli's cli/command/stack/swarm/deploy_composefile.go: external networks
// checked, stack networks, configs and secrets created, services converted with
// convert.Services and created or updated with their current Version.Index, pruned like
// `--prune`. Deploy itself resolves no image (`--resolve-image never`): a caller resolves each
// image once (Images, through the Engine's distribution endpoint, as `--resolve-image always`
// does) and passes name:tag@sha256:… in DeployOptions.Images, so every node runs the resolved
// bytes; an image no registry knows (built on the host) stays by tag. Registry credentials
// from the Docker CLI config (SetDockerConfig) go with resolution and with every service
// create and update (`--with-registry-auth`). Registry failures are typed (RegistryError,
// PullError): a missing tag is the recipe's fault, anything else the infrastructure's. Every refusal — a missing external network (unless CreateMissingNetworks), a
// config whose content changed under the same name, a missing secret that may not be
// generated — comes from reads before the first write.
//
// A service is left alone when its LabelSpecHash and version label match the desired spec (the
// CLI's conversion plus abra's version label). A service without our hash, for example from a
// `docker stack deploy` of the same files by hand, is compared spec to spec after filling in
// what the daemon adds (vip endpoint mode, one replica, "default" isolation, "container"
// runtime, restart condition "any", update/rollback order and failure action, tcp ports,
// network ids, an image tag or pinned digest). If it matches and the stack's version label is
// the desired version, it is adopted: no write, AlreadyDeployed. We do not add our labels then,
// because that would be a write abra users did not ask for and would bump Version.Index; our
// bookkeeping labels (managed-by, role, run, extra labels) never cause an update by themselves
// and are written with the next real change. Hand edits made under our hash label (docker
// service update) are not reverted until the next change of input.
//
// Generated secrets are labelled LabelSecretOf, not the stack namespace, so `docker stack rm`
// and `abra app undeploy` keep them as they keep abra's; Remove deletes them only with the
// volumes they protect. Swarm never returns secret data, so a file-based (non-external)
// secret whose content changed under the same name is only caught when its labels change too
// (the daemon then refuses the update and we report the variable to bump).
//
// # Differences from docker stack deploy kept on purpose
//
// The differential test deploys the sample recipe, the package's test stack and every file of
// the shared corpus both ways and compares the stored service specs. They are equal except for:
//   - our labels on services (LabelManagedBy, LabelRole, LabelRun, LabelSpecHash, extra labels)
//     and abra's version label on services whose compose file does not set it, which abra reads
//     and the design asks for on every service;
//   - secret and config ids, which differ because the objects are recreated between the runs;
//   - existing configs and secrets are never rewritten: the CLI updates them on every deploy (a
//     write for nothing, refused by Swarm when the content changed), we compare and refuse with
//     the variable to bump;
//   - order of refusal: we read config and secret files before creating networks, so a file
//     that both refuse (corpus 20, a config without file) fails on the config for us and on a
//     network for the CLI, with nothing created by us.
//
// # Observation
//
// Observe and ObserveStack make one service list (with Swarm's task counts) and one task list,
// filtered on com.docker.stack.namespace, whatever the number of stacks. A task counts as
// running only when it runs the service's current task template; Swarm reports a task with a
// healthcheck as running only once healthy. WaitConverged fails early on a missing image, an
// update paused or rolled back, or three ended tasks of the current spec (an unhealthy
// container that exits cleanly on Swarm's SIGTERM ends "complete", which counts).
//
// # Jobs
//
// RunJob runs one command once as a Swarm task (a custom tier with an image): a service with
// restart condition none and DNS round-robin endpoints (no IPVS on the test hosts), on the
// networks of a stack and labelled with its namespace, pinned to one node that satisfies the
// placement (JobNode). A service's container cannot be written before it starts, so its files
// go into a volume on that node through a staging container that is created and never started
// (LabelJobStager), and the task mounts it read-only; its output directory is a second volume,
// read back through the archive endpoint of the stopped container. Everything is removed when
// the job ends; a removal of the stack removes what a crash left.
package swarm
