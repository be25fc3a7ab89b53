# Evaluates nix/package.nix without nixpkgs and prints, as JSON, what it hands to buildGoModule
# and what the run-time environment of nix/runtime-env.nix holds, for the packaging suite to read.
#
# As in eval-module.nix, `lib`, `buildGoModule` and the packages are stand-ins written for this
# test (no nixpkgs is reachable from the machines that run it): buildGoModule returns its
# arguments, every package is a name with a fake store path, and callPackage fills a function's
# arguments by name the way nixpkgs' does. This proves what the expressions ask for, not that
# nixpkgs builds it; `nix build` on a connected host covers that.
#
# Usage: nix-instantiate --eval --strict --json eval-package.nix \
#          --arg package ./nix/package.nix --argstr version 0.1.0+test
{
  package,
  version,
}:

let
  inherit (builtins)
    attrNames
    concatStringsSep
    filter
    functionArgs
    intersectAttrs
    isString
    listToAttrs
    map
    split
    stringLength
    substring
    ;

  lib = rec {
    cleanSource = src: src;
    cleanSourceWith =
      {
        src,
        filter,
        name ? "source",
      }:
      {
        inherit src filter name;
      };
    splitString = sep: s: filter isString (split sep s);
    hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
    removePrefix =
      prefix: s:
      if hasPrefix prefix s then substring (stringLength prefix) (stringLength s) s else s;
    makeBinPath = pkgs: concatStringsSep ":" (map (p: "${p.outPath}/bin") pkgs);
    platforms.linux = [
      "x86_64-linux"
      "aarch64-linux"
    ];
  };

  fakePackage = name: {
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };

  # Every argument without a default that a callPackage'd file asks for, as a fake package of
  # that name (nixpkgs has no runtimeEnv or version, so those keep their defaults there too);
  # python3 also answers withPackages with a package named after the modules chosen.
  packagesFor =
    fn:
    listToAttrs (
      map (name: {
        inherit name;
        value =
          if name == "python3" then
            fakePackage "python3"
            // {
              withPackages =
                choose:
                fakePackage (
                  concatStringsSep "-" (
                    [ "python3-with" ]
                    ++ map (p: p.name) (choose {
                      pytest = fakePackage "pytest";
                      requests = fakePackage "requests";
                    })
                  )
                );
            }
          else
            fakePackage name;
      }) (filter (name: !(functionArgs fn).${name}) (attrNames (functionArgs fn)))
    );

  callPackage =
    file: args:
    let
      fn = import file;
    in
    fn (packagesFor fn // intersectAttrs (functionArgs fn) { inherit lib callPackage; } // args);

  drv = callPackage package {
    inherit version;
    buildGoModule = attrs: attrs;
  };

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
  runtimeBinPath = lib.makeBinPath drv.passthru.runtimeEnv;
  # Which top-level entries of the repository the build source keeps.
  sourceKeeps = listToAttrs (
    map (name: {
      inherit name;
      value = drv.src.filter "${root}/${name}" "directory";
    }) [
      "cmd"
      "internal"
      "test"
      "go.mod"
      "nix"
      "contrib"
      "docs"
      "flake.nix"
      ".ci"
    ]
  );
}
