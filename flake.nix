{
  description = "ccci-controller: test-gated, idempotent promotion of Co-op Cloud recipes on Docker Swarm";

  # go.mod asks for Go 1.26.8 and the build runs with GOTOOLCHAIN=local, so this nixpkgs must ship
  # Go >= 1.26.8 as its default `go`. No flake.lock is committed yet (the machines that wrote this
  # had no network); the first `nix flake lock` on a connected host pins the revision.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      version = "0.1.0+${self.shortRev or self.dirtyShortRev or "dirty"}";
    in
    {
      packages = forAllSystems (pkgs: rec {
        ccci-controller = pkgs.callPackage ./nix/package.nix { inherit version; };
        default = ccci-controller;
      });

      nixosModules = rec {
        ccci-controller =
          { pkgs, lib, ... }:
          {
            imports = [ ./nix/module.nix ];
            services.ccci-controller.package =
              lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.ccci-controller;
          };
        default = ccci-controller;
      };

      # `nix flake check` builds the package, which also proves the pinned vendorHash.
      checks = forAllSystems (pkgs: {
        package = self.packages.${pkgs.stdenv.hostPlatform.system}.ccci-controller;
      });

      devShells = forAllSystems (pkgs: {
        # Go to build, plus the very tools the packaged binary runs with (docker client, git, ...):
        # what passes here passes under the timer and the Drone step.
        default = pkgs.mkShell {
          packages = [
            pkgs.go
            pkgs.gnumake
          ]
          ++ self.packages.${pkgs.stdenv.hostPlatform.system}.ccci-controller.runtimeEnv;
        };
      });
    };
}
