# NixOS module: services.ccci-controller runs the controller daemon and a timer that asks that
# daemon to sweep.
#
# The timer does not start a second controller: its unit runs `ccci-controller sweep --server`,
# which hands the pass to the running daemon and waits for the verdict. Timer, edits and Drone
# triggers therefore go through one process, one queue and one state directory, and never drive
# the same stack twice at once.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.ccci-controller;

  # The daemon's and the sweep's credential: systemd copies tokenFile into the unit's private
  # credentials directory (%d), readable by that unit only, so the secret never enters the store.
  tokenArgs = lib.optionals (cfg.tokenFile != null) [
    "--token-file"
    "%d/token"
  ];
  tokenCredential = lib.optionalAttrs (cfg.tokenFile != null) {
    LoadCredential = "token:${cfg.tokenFile}";
  };

  # The daemon also gets the age identity that decrypts spec.secrets, the same way.
  ageArgs = lib.optionals (cfg.ageIdentityFile != null) [
    "--age-identity"
    "%d/age-identity"
  ];
  daemonCredentials =
    (if cfg.tokenFile != null then [ "token:${cfg.tokenFile}" ] else [ ])
    ++ (if cfg.ageIdentityFile != null then [ "age-identity:${cfg.ageIdentityFile}" ] else [ ]);
  daemonCredential = lib.optionalAttrs (daemonCredentials != [ ]) {
    LoadCredential =
      if builtins.length daemonCredentials == 1 then builtins.head daemonCredentials else daemonCredentials;
  };

  daemonCommand = [
    (lib.getExe cfg.package)
    "run"
    "--resources"
    cfg.resourcesDir
    "--state"
    cfg.stateDir
    "--listen"
    cfg.listen
  ]
  # Without it the daemon sizes the run pool from the swarm's capacity.
  ++ lib.optionals (cfg.maxRuns != null) [
    "--max-runs"
    (toString cfg.maxRuns)
  ]
  ++ lib.optionals cfg.keepTestImages [ "--keep-test-images" ]
  ++ builtins.concatMap (node: [
    "--node-endpoint"
    "${node}=${cfg.nodeEndpoints.${node}}"
  ]) (builtins.attrNames cfg.nodeEndpoints)
  ++ lib.optionals (cfg.publicUrl != null) [
    "--public-url"
    cfg.publicUrl
  ]
  ++ tokenArgs
  ++ ageArgs
  ++ cfg.extraArgs;

  sweepCommand = [
    (lib.getExe cfg.package)
    "sweep"
    "--server"
    cfg.sweep.server
  ]
  ++ tokenArgs;

  # Hardening shared by both units. Docker group membership is root-equivalent on this host, so
  # this limits what a bug in the controller or a custom tier can do to the host's files, not what
  # it can do through the Docker socket.
  hardening = {
    NoNewPrivileges = true;
    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectKernelLogs = true;
    ProtectKernelModules = true;
    ProtectKernelTunables = true;
    ProtectControlGroups = true;
    ProtectProc = "invisible";
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    RemoveIPC = true;
    CapabilityBoundingSet = "";
    # AF_UNIX for the Docker socket, AF_INET/6 for git remotes and the HTTP listener.
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
    ];
    SystemCallArchitectures = "native";
    SystemCallFilter = [ "@system-service" ];
    UMask = "0027";
  };

  # The daemon refuses to serve its trigger API beyond loopback without a token; say so when the
  # system is built rather than with a unit that restarts forever.
  loopbackListen = builtins.any (prefix: lib.hasPrefix prefix cfg.listen) [
    "127."
    "[::1]:"
    "localhost:"
  ];

  # StateDirectory= only manages directories below /var/lib; any other stateDir must exist and
  # be writable by the service user.
  managedStateDir = lib.hasPrefix "/var/lib/" cfg.stateDir;
in
{
  options.services.ccci-controller = {
    enable = lib.mkEnableOption "ccci-controller, the test-gated promotion controller for Co-op Cloud recipes on Docker Swarm";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The ccci-controller package; it carries the run-time tools of nix/runtime-env.nix on its PATH.";
    };

    resourcesDir = lib.mkOption {
      type = lib.types.str;
      example = "/srv/ccci/resources";
      description = ''
        Directory of RecipeTest and WarmCanonical YAML files (often a git checkout). The daemon
        watches it and reconciles an object within a second of its file changing. Required.
      '';
    };

    stateDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/ccci-controller";
      description = ''
        State directory: status, run history, logs, recipe caches and lock files. Below /var/lib
        it is created by systemd (StateDirectory=); elsewhere it must exist and be writable by
        the ccci-controller user.
      '';
    };

    listen = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1:8089";
      description = ''
        Address of the daemon's HTTP listener (trigger API, health, metrics, dashboard). The
        daemon refuses a non-loopback address unless tokenFile is set.
      '';
    };

    publicUrl = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "https://ci.example.org";
      description = ''
        Externally reachable base URL of the daemon's dashboard, usually a reverse proxy in front
        of listen (--public-url): notifications link to its pages, and the daemon answers
        requests naming its host besides loopback names. An absolute http or https URL.
        Optional: without it notifications carry no links and only loopback names are served.
      '';
    };

    tokenFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "/run/secrets/ccci-controller-token";
      description = ''
        File holding the bearer token of the trigger API, passed to the daemon and to the sweep
        unit as a systemd credential. A string, not a path, so the secret is never copied into
        the Nix store. Optional.
      '';
    };

    maxRuns = lib.mkOption {
      type = lib.types.nullOr lib.types.ints.positive;
      default = null;
      example = 4;
      description = ''
        How many test runs may run at once (each deploys throw-away stacks), shared fairly between
        recipes. null: two per CPU of the swarm's schedulable nodes, as the daemon counts them.
      '';
    };

    keepTestImages = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Leave on the nodes the images test runs pulled. By default, once a run's stacks are
        removed, each node's images the run brought there, that no container uses and no service
        names, are removed.
      '';
    };

    ageIdentityFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "/run/keys/ccci-age-identity";
      description = ''
        File of age identities (age-keygen's output) that decrypt the {age: ...} values of
        spec.secrets, passed to the daemon as a systemd credential. A string, not a path, so the
        key never enters the Nix store. Optional.
      '';
    };

    nodeEndpoints = lib.mkOption {
      type = lib.types.attrsOf lib.types.str;
      default = { };
      example = {
        worker1 = "ssh://ccci@worker1.example.org";
        worker2 = "tcp://10.0.0.12:2376";
      };
      description = ''
        Engine endpoint of each node of a multi-node swarm, by the hostname `docker node ls`
        shows: `unix://`, `tcp://` (TLS as DOCKER_CERT_PATH says) or `ssh://`. Exec, copy and
        file checks of a task go to the endpoint of the node that runs it. Empty: a single-node
        swarm.
      '';
    };

    extraArgs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [
        "--sweep-interval"
        "10m"
        "--log-format"
        "json"
      ];
      description = "Further arguments appended to `ccci-controller run`.";
    };

    sweep = {
      enable = lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = "Whether a timer asks the daemon for a sweep over every WarmCanonical.";
      };

      onCalendar = lib.mkOption {
        type = lib.types.str;
        default = "*-*-* 03:00:00";
        description = "When the sweep runs, as a systemd calendar expression (systemd.time(7)). Nightly by default.";
      };

      server = lib.mkOption {
        type = lib.types.str;
        default = "http://${cfg.listen}";
        defaultText = lib.literalExpression ''"http://''${config.services.ccci-controller.listen}"'';
        description = "URL at which the sweep unit reaches the daemon; set it when listen is a wildcard address.";
      };
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = config.virtualisation.docker.enable;
        message = "services.ccci-controller needs Docker: set virtualisation.docker.enable = true (the daemon must run in swarm mode).";
      }
      {
        assertion = loopbackListen || cfg.tokenFile != null;
        message = "services.ccci-controller.listen = \"${cfg.listen}\" is not a loopback address: set services.ccci-controller.tokenFile, or listen on 127.0.0.1 (the daemon refuses to serve its trigger API elsewhere without a token).";
      }
    ];

    users.users.ccci-controller = {
      isSystemUser = true;
      group = "ccci-controller";
      home = cfg.stateDir;
      description = "ccci-controller daemon";
    };
    users.groups.ccci-controller = { };

    systemd.services.ccci-controller = {
      description = "ccci-controller: test-gated promotion of Co-op Cloud recipes on Docker Swarm";
      wantedBy = [ "multi-user.target" ];
      # wants, not requires: a Docker restart must not stop the daemon; it reports not ready
      # (/readyz) and retries until the Engine API answers again.
      wants = [
        "network-online.target"
        "docker.service"
      ];
      after = [
        "network-online.target"
        "docker.service"
      ];
      # git reads its configuration from HOME; the state directory is the user's home.
      environment.HOME = cfg.stateDir;
      serviceConfig =
        hardening
        // daemonCredential
        // {
          Type = "simple";
          ExecStart = lib.escapeShellArgs daemonCommand;
          User = "ccci-controller";
          Group = "ccci-controller";
          SupplementaryGroups = [ "docker" ];
          WorkingDirectory = cfg.stateDir;
          Restart = "on-failure";
          RestartSec = "5s";
          # Test runs tear their throw-away stacks down on SIGTERM; give them time to.
          TimeoutStopSec = "2min";
        }
        // lib.optionalAttrs managedStateDir {
          StateDirectory = lib.removePrefix "/var/lib/" cfg.stateDir;
          # The controller keeps its state directory 0700 (and tightens a looser one at start).
          StateDirectoryMode = "0700";
        }
        // lib.optionalAttrs (!managedStateDir) {
          ReadWritePaths = [ cfg.stateDir ];
        };
    };

    systemd.services.ccci-controller-sweep = lib.mkIf cfg.sweep.enable {
      description = "ccci-controller: sweep every WarmCanonical through the running daemon";
      # The sweep is the daemon's work; without a daemon there is nothing to ask.
      requires = [ "ccci-controller.service" ];
      after = [ "ccci-controller.service" ];
      serviceConfig =
        hardening
        // tokenCredential
        // {
          # oneshot: the unit stays "activating" while the daemon sweeps, and fails (visible in
          # `systemctl --failed`) when any object failed. No start timeout: a sweep that tests new
          # versions takes as long as their tiers.
          Type = "oneshot";
          ExecStart = lib.escapeShellArgs sweepCommand;
          # Only an HTTP client of the daemon: no state, no Docker access.
          DynamicUser = true;
          RestrictAddressFamilies = [
            "AF_INET"
            "AF_INET6"
          ];
        };
    };

    systemd.timers.ccci-controller-sweep = lib.mkIf cfg.sweep.enable {
      description = "Nightly ccci-controller sweep";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.sweep.onCalendar;
        # Catch up on a sweep missed while the host was off.
        Persistent = true;
        RandomizedDelaySec = "10min";
      };
    };
  };
}
