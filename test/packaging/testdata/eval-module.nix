# Evaluates nix/module.nix with stubs.nix and prints the NixOS configuration it produces
# (systemd units, users, assertions) as JSON, for the packaging suite to read.
#
# Usage: nix-instantiate --eval --strict --json eval-module.nix \
#          --arg module ./nix/module.nix --argstr settings '{"enable": true, "resourcesDir": "/srv/r"}'
{
  module,
  # JSON object of services.ccci-controller settings; unset options take their defaults.
  settings ? "{}",
}:

let
  stubs = import ./stubs.nix;
  inherit (stubs) lib resolve;

  given = {
    package = stubs.fakePackage "ccci-controller" // {
      meta.mainProgram = "ccci-controller";
    };
  }
  // builtins.fromJSON settings;

  # Option values: a setting where one is given, else the option's default. A missing default
  # (a required option left unset) throws only if the module reads it, as NixOS does.
  valuesOf =
    options: given:
    builtins.mapAttrs (
      name: opt:
      if opt._type or null == "option" then
        given.${name} or (opt.default or (throw "option services.ccci-controller.${name} is used but not set"))
      else
        valuesOf opt (given.${name} or { })
    ) options;

  evaluated = import module {
    inherit lib config;
    pkgs = throw "the module must not touch pkgs when package is set";
  };

  config = {
    services.ccci-controller = valuesOf evaluated.options.services.ccci-controller given;
    virtualisation.docker.enable = true;
  };
in
resolve evaluated.config
