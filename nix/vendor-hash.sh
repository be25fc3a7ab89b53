#!/usr/bin/env bash
# Prints the vendorHash nix/package.nix must carry, or with --write puts it there.
#
# buildGoModule runs `go mod vendor` on the package source and takes the NAR hash of the vendor
# directory. This does the same offline: it copies the files the flake would see (tracked and
# untracked-but-not-ignored files) to a temporary directory, vendors from the local module cache
# and hashes the result with Nix. Needs go (the version go.mod asks for) and nix-bin; no network
# when the module cache already holds every module, else from GOPROXY like any Go build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
# Only directories that hold Go code or go.mod/go.sum matter to `go mod vendor`.
git ls-files -z --cached --others --exclude-standard -- go.mod go.sum '*.go' \
  | xargs -0 cp --parents -t "$work" --

cd "$work"
# The same settings as the vendoring step of buildGoModule; the caller's GOFLAGS (say -mod=vendor)
# must not leak in.
GOFLAGS= GOTOOLCHAIN=local GOWORK=off go mod vendor
hash="$(nix --extra-experimental-features nix-command hash path vendor)"

if [[ "${1:-}" == "--write" ]]; then
  sed -i -E "s|(vendorHash = \")[^\"]*(\";)|\1${hash}\2|" "$root/nix/package.nix"
  echo "nix/package.nix: vendorHash = \"$hash\""
else
  echo "$hash"
fi
