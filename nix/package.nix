# ccci-controller built from this repository with buildGoModule, wrapped so the tools of
# runtime-env.nix are on its PATH whoever starts it (the daemon, the sweep timer, an operator).
{
  lib,
  buildGoModule,
  makeWrapper,
  callPackage,
  # The run-time tools; overriding this is the one way to change them for every consumer.
  runtimeEnv ? callPackage ./runtime-env.nix { },
  # Set by flake.nix from the git revision; a plain `nix-build` gets this placeholder.
  version ? "0.1.0-dev",
}:

let
  # Only what the Go build reads: editing the module, the units or the docs must not rebuild the
  # binary. None of these directories holds Go code, so the vendor directory (and vendorHash)
  # is the same with or without them.
  notBuildInput = [
    ".ci"
    ".state"
    "_output"
    "bin"
    "contrib"
    "docs"
    "flake.lock"
    "flake.nix"
    "nix"
    "result"
  ];
  root = toString ../.;
  topLevelName = path: builtins.head (lib.splitString "/" (lib.removePrefix (root + "/") (toString path)));
in
buildGoModule {
  pname = "ccci-controller";
  inherit version;

  src = lib.cleanSourceWith {
    name = "ccci-controller-source";
    src = lib.cleanSource ../.;
    filter = path: _type: !(builtins.elem (topLevelName path) notBuildInput);
  };

  # The NAR hash of `go mod vendor` for this source. It changes whenever go.mod/go.sum change or
  # a package starts importing a package no other package imported before; recompute it with
  # `nix/vendor-hash.sh --write` (offline), and test/packaging fails until you do.
  vendorHash = "sha256-aQa/SNUyKbpVIl7y4iS80QOiAVTrNLU7PcM/ski+x7k=";

  subPackages = [ "cmd/ccci-controller" ];

  # Pure Go (the Engine API client needs no C); a static binary has no libc to keep in step.
  env.CGO_ENABLED = "0";
  ldflags = [
    "-s"
    "-w"
    "-X main.version=${version}"
  ];

  # The suites need a Docker daemon in swarm mode, which the build sandbox does not have; CI runs
  # them (`make test`) on a host that has one.
  doCheck = false;

  nativeBuildInputs = [ makeWrapper ];

  # --prefix, not --suffix: the tools of runtime-env.nix win over whatever PATH the caller had, so
  # a timer, a Drone step and an operator's shell run the tiers with the same tools.
  postInstall = ''
    wrapProgram $out/bin/ccci-controller \
      --prefix PATH : ${lib.makeBinPath runtimeEnv}
  '';

  passthru = {
    inherit runtimeEnv;
  };

  meta = {
    description = "Declarative controller that tests Co-op Cloud recipes on Docker Swarm and promotes warm apps";
    mainProgram = "ccci-controller";
    platforms = lib.platforms.linux;
  };
}
