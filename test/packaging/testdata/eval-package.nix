# Evaluates nix/package.nix with stubs.nix and prints, as JSON, what it hands to buildGoModule
# and what the run-time environment of nix/runtime-env.nix holds, for the packaging suite to read.
#
# Usage: nix-instantiate --eval --strict --json eval-package.nix \
#          --arg package ./nix/package.nix --argstr version 0.1.0+test
{
  package,
  version,
}:

let
  stubs = import ./stubs.nix;
  drv = stubs.callPackage package { inherit version; };
  root = toString drv.src.src;
in
{
  inherit (drv)
    pname
    version
    vendorHash
    subPackages
    ldflags
    doCheck
    env
    postInstall
    meta
    ;
  runtimeTools = map (p: p.name) drv.passthru.runtimeEnv;
  runtimeBinPath = stubs.lib.makeBinPath drv.passthru.runtimeEnv;
  # Which top-level entries of the repository the build source keeps.
  sourceKeeps = stubs.lib.genAttrs [
    "cmd"
    "internal"
    "test"
    "go.mod"
    "nix"
    "contrib"
    "docs"
    "flake.nix"
    ".ci"
  ] (name: drv.src.filter "${root}/${name}" "directory");
}
