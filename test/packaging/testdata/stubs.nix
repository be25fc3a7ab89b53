# Stand-ins for the parts of nixpkgs that nix/*.nix and flake.nix use, for evaluating them on
# machines with Debian's nix-bin but no nixpkgs and no network.
#
# Each function here means what nixpkgs' function of the same name means, for the arguments our
# files pass; option types are names, not checks, and packages are names with fake store paths
# that are never built. Evaluating our files with these proves what they ask for (commands,
# flags, unit settings, the wrapper's PATH), not that nixpkgs and NixOS accept every type: `nix
# flake check` and `nix build` on a connected host cover that.
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
    replaceStrings
    split
    stringLength
    substring
    ;
in
rec {
  lib = rec {
    # Attribute sets and lists.
    genAttrs =
      names: f:
      listToAttrs (
        map (name: {
          inherit name;
          value = f name;
        }) names
      );
    optionals = cond: list: if cond then list else [ ];
    optionalAttrs = cond: attrs: if cond then attrs else { };

    # Strings.
    hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
    removePrefix =
      prefix: s:
      if hasPrefix prefix s then substring (stringLength prefix) (stringLength s) s else s;
    splitString = sep: s: filter isString (split sep s);
    escapeShellArg = arg: "'${replaceStrings [ "'" ] [ "'\\''" ] (toString arg)}'";
    escapeShellArgs = args: concatStringsSep " " (map escapeShellArg args);

    # Packages and sources.
    getExe = pkg: "${pkg.outPath}/bin/${pkg.meta.mainProgram}";
    makeBinPath = pkgs: concatStringsSep ":" (map (p: "${p.outPath}/bin") pkgs);
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
    platforms.linux = [
      "x86_64-linux"
      "aarch64-linux"
    ];

    # The module system, as far as a module's own declarations go: see resolve below.
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: mkOption {
      default = false;
      description = "Whether to enable ${name}.";
    };
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkDefault = content: {
      _type = "override";
      inherit content;
    };
    types = {
      bool = "bool";
      str = "str";
      package = "package";
      listOf = t: "listOf ${t}";
      nullOr = t: "nullOr ${t}";
      ints.positive = "positive int";
    };
  };

  # What the module system does with mkIf and mkDefault in the values a module sets.
  resolve =
    v:
    if builtins.isAttrs v && v ? _type then
      if v._type == "if" then
        (if v.condition then resolve v.content else null)
      else if v._type == "override" then
        resolve v.content
      else
        v
    else if builtins.isAttrs v && !(v ? outPath) then
      builtins.foldl' (
        acc: name:
        let
          r = resolve v.${name};
        in
        if r == null then acc else acc // { ${name} = r; }
      ) { } (attrNames v)
    else if builtins.isList v then
      filter (x: x != null) (map resolve v)
    else
      v;

  fakePackage = name: {
    inherit name;
    type = "derivation";
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };

  # python3 answers withPackages with a package named after the modules chosen.
  python3 = fakePackage "python3" // {
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
  };

  # callPackage fills the arguments without defaults by name, as nixpkgs' does: lib and
  # callPackage themselves, buildGoModule (which returns its arguments and their passthru),
  # mkShell (which returns its arguments), and
  # any other name as a fake package of that name. Arguments with defaults keep them, since
  # nixpkgs has no attribute named runtimeEnv or version either.
  pkgs = {
    inherit lib callPackage python3;
    # mkDerivation puts passthru attributes on the derivation itself.
    buildGoModule = attrs: attrs // attrs.passthru or { };
    mkShell = attrs: attrs;
    go = fakePackage "go";
    gnumake = fakePackage "gnumake";
    stdenv.hostPlatform.system = "x86_64-linux";
  };
  callPackage =
    file: args:
    let
      fn = if builtins.isFunction file then file else import file;
      wanted = filter (name: !(functionArgs fn).${name}) (attrNames (functionArgs fn));
    in
    fn (genAttrsFake wanted // intersectAttrs (functionArgs fn) pkgs // args);
  genAttrsFake = names: lib.genAttrs names fakePackage;
}
