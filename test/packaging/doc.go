// Package packaging checks that the deployment files agree with the code they deploy: every Nix
// file parses, nix/package.nix carries the vendorHash of the current source, every
// `ccci-controller` subcommand and flag used by the NixOS module, the systemd units under
// contrib/, the Drone sample and docs/deploy.md is accepted by the CLI built from this tree, and
// systemd accepts the units. It reads those files and runs nix-instantiate, go and
// systemd-analyze; it must not change the repository or talk to Docker.
package packaging
