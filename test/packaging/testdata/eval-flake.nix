# Evaluates the outputs of flake.nix with stubs.nix standing in for nixpkgs and prints, as JSON,
# what the flake exposes, for the packaging suite to read.
#
# Usage: nix-instantiate --eval --strict --json eval-flake.nix --arg flake ./flake.nix
{ flake }:

let
  stubs = import ./stubs.nix;
  system = "x86_64-linux";

  nixpkgs = {
    inherit (stubs) lib;
    legacyPackages.${system} = stubs.pkgs;
  };
  # A flake's self is its own outputs plus source information.
  self = (import flake).outputs { inherit self nixpkgs; } // {
    shortRev = "abc1234";
  };

  package = self.packages.${system}.default;
  module = self.nixosModules.default {
    inherit (stubs) lib;
    pkgs = stubs.pkgs;
  };
in
{
  systems = builtins.attrNames self.packages;
  package = {
    inherit (package) pname version;
    sameAsNamed = package == self.packages.${system}.ccci-controller;
  };
  module = {
    imports = map toString module.imports;
    packageDefault = (stubs.resolve module.services.ccci-controller.package).pname;
  };
  checksBuildPackage = self.checks.${system}.package == package;
  devShell = map (p: p.name) self.devShells.${system}.default.packages;
  runtimeTools = map (p: p.name) package.passthru.runtimeEnv;
}
