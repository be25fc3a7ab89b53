# Evaluates nix/module.nix without nixpkgs and prints the NixOS configuration it produces
# (systemd units, users, assertions) as JSON, for the packaging suite to read.
#
# The machines that run the suite have Debian's nix-bin but no nixpkgs and no network, so `lib`
# here is a small stand-in written for this test: it implements, with the same meaning, only the
# functions the module calls, and option types are not checked. What it proves is what the module
# does with its settings (which commands, flags and unit settings come out), not that the real
# NixOS module system accepts every type; `nix flake check` on a connected host covers that.
#
# Usage: nix-instantiate --eval --strict --json eval-module.nix \
#          --arg module ./nix/module.nix --argstr settings '{"resourcesDir": "/srv/r"}'
{
  module,
  # JSON object of services.ccci-controller settings; unset options take their defaults.
  settings ? "{}",
}:

let
  inherit (builtins)
    attrNames
    concatStringsSep
    filter
    foldl'
    isAttrs
    isList
    listToAttrs
    map
    replaceStrings
    stringLength
    substring
    ;

  lib = rec {
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: mkOption {
      default = false;
      description = "Whether to enable ${name}.";
    };
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };
    types = {
      bool = "bool";
      str = "str";
      package = "package";
      listOf = t: "listOf ${t}";
      nullOr = t: "nullOr ${t}";
      ints.positive = "positive int";
    };

    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkDefault = content: {
      _type = "override";
      inherit content;
    };

    optionals = cond: list: if cond then list else [ ];
    optionalAttrs = cond: attrs: if cond then attrs else { };
    hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
    removePrefix =
      prefix: s:
      if hasPrefix prefix s then substring (stringLength prefix) (stringLength s) s else s;
    escapeShellArg = arg: "'${replaceStrings [ "'" ] [ "'\\''" ] (toString arg)}'";
    escapeShellArgs = args: concatStringsSep " " (map escapeShellArg args);
    getExe = pkg: "${pkg.outPath}/bin/${pkg.meta.mainProgram}";
  };

  # A package that is never built: the suite puts the CLI it built at this path inside a temporary
  # root when it verifies the rendered units.
  fakePackage = {
    type = "derivation";
    name = "ccci-controller";
    outPath = "/nix/store/00000000000000000000000000000000-ccci-controller";
    meta.mainProgram = "ccci-controller";
  };

  given = { package = fakePackage; } // builtins.fromJSON settings;

  # Option values: a setting where one is given, else the option's default. A missing default
  # (a required option left unset) throws only if the module reads it, as NixOS does.
  valuesOf =
    options: given:
    listToAttrs (
      map (name: {
        inherit name;
        value =
          let
            opt = options.${name};
          in
          if opt._type or null == "option" then
            given.${name} or (opt.default or (throw "option services.ccci-controller.${name} is used but not set"))
          else
            valuesOf opt (given.${name} or { });
      }) (attrNames options)
    );

  # The module system's handling of mkIf and mkDefault, for the values this module writes.
  resolve =
    v:
    if isAttrs v && v ? _type then
      if v._type == "if" then
        (if v.condition then resolve v.content else null)
      else if v._type == "override" then
        resolve v.content
      else
        v
    else if isAttrs v then
      foldl' (
        acc: name:
        let
          r = resolve v.${name};
        in
        if r == null then acc else acc // { ${name} = r; }
      ) { } (attrNames v)
    else if isList v then
      filter (x: x != null) (map resolve v)
    else
      v;

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
