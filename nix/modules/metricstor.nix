# NixOS module for the Metricstor server: services.metricstor.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.metricstor;
  settingsFormat = pkgs.formats.yaml { };

  serviceName = "metricstor";
  # systemd's LoadCredential puts each file here, readable by the service's dynamic user only.
  credentialsDir = "/run/credentials/${serviceName}.service";
  credentialPath = name: "${credentialsDir}/${name}";

  # Credential name → source file on the host, for every TLS file that is set.
  credentials = lib.filterAttrs (_: file: file != null) {
    "tls-cert" = cfg.tls.certFile;
    "tls-key" = cfg.tls.keyFile;
    "tls-ca" = cfg.tls.caFile;
    "flaredb-tls-cert" = cfg.flaredb.tls.certFile;
    "flaredb-tls-key" = cfg.flaredb.tls.keyFile;
    "flaredb-tls-ca" = cfg.flaredb.tls.caFile;
  };
  credentialOr = name: if credentials ? ${name} then credentialPath name else null;

  useFlareDb = cfg.flaredb.endpoints != [ ];

  # BEGIN settings-keys
  # The typed options as the YAML keys the server reads (dotted paths). Null means "not written".
  # test/nix/module-keys.test.ts reads this block and checks every key against the server's schema.
  typedSettings = {
    "server.http_addr" = cfg.httpAddress;
    "server.grpc_addr" = cfg.grpcAddress;
    "storage.data_dir" = cfg.dataDir;
    "storage.retention_days" = cfg.retentionDays;
    "server.tls.cert_file" = credentialOr "tls-cert";
    "server.tls.key_file" = credentialOr "tls-key";
    "server.tls.ca_file" = credentialOr "tls-ca";
    "server.tls.require_client_cert" = if cfg.tls.requireClientCert then true else null;
    "storage.backend" = if useFlareDb then "flaredb" else null;
    "storage.flaredb.endpoints" = if useFlareDb then cfg.flaredb.endpoints else null;
    "storage.flaredb.namespace" = cfg.flaredb.namespace;
    "storage.flaredb.consistency" = cfg.flaredb.consistency;
    "storage.flaredb.lease_namespace" = cfg.flaredb.leaseNamespace;
    "storage.flaredb.tls.cert_file" = credentialOr "flaredb-tls-cert";
    "storage.flaredb.tls.key_file" = credentialOr "flaredb-tls-key";
    "storage.flaredb.tls.ca_file" = credentialOr "flaredb-tls-ca";
  };
  # END settings-keys

  # "a.b.c" = v  →  { a = { b = { c = v; }; }; }, skipping nulls.
  nestSettings =
    flat:
    lib.foldlAttrs (
      acc: key: value:
      if value == null then acc else lib.recursiveUpdate acc (lib.setAttrByPath (lib.splitString "." key) value)
    ) { } flat;

  configFile = settingsFormat.generate "metricstor.yaml" cfg.settings;

  # The check runs in the build sandbox, where the credential files and other host files do not
  # exist (secrets never enter the Nix store). It checks a copy in which every `*_file` setting
  # outside the store points at an empty placeholder: keys, types, addresses and which settings
  # need each other are checked; the files themselves are read when the service starts.
  placeholderFile = pkgs.writeText "metricstor-check-placeholder" "";
  checkSettings = lib.mapAttrsRecursive (
    path: value:
    if lib.hasSuffix "_file" (lib.last path) && lib.isString value && !lib.hasPrefix builtins.storeDir value then
      "${placeholderFile}"
    else
      value
  ) cfg.settings;
  checkFile = settingsFormat.generate "metricstor-check.yaml" checkSettings;

  checkedConfig =
    if cfg.checkConfig then
      pkgs.runCommand "metricstor-checked-config" { nativeBuildInputs = [ cfg.package ]; } ''
        metricstor config check ${checkFile}
        ln -s ${configFile} $out
      ''
    else
      configFile;

  portOf = address: lib.toInt (lib.last (lib.splitString ":" address));

  tlsFileOption =
    what:
    lib.mkOption {
      # An absolute path as a string: a Nix path literal would copy the secret into the store.
      type = lib.types.nullOr (lib.types.strMatching "/.*");
      default = null;
      example = "/run/keys/metricstor/cert.pem";
      description = ''
        ${what} file on the host. Passed to the service with systemd's LoadCredential, so it
        stays outside the Nix store and only the service can read its copy.
      '';
    };
in
{
  # The scrape agent, services.metricstor.agent, is a separate module in its own file.
  imports = [ ./metricstor-agent.nix ];

  options.services.metricstor = {
    enable = lib.mkEnableOption "Metricstor, a Prometheus-compatible metrics store";

    package = lib.mkPackageOption pkgs "metricstor" { };

    settings = lib.mkOption {
      type = settingsFormat.type;
      default = { };
      example = lib.literalExpression ''
        {
          query.timeout = "1m";
          storage.head_flush_interval = "5s";
          server.tls.allowed_writers = [ "prometheus-*.example.net" ];
        }
      '';
      description = ''
        Configuration written to the YAML file given to `metricstor serve --config`. See
        docs/configuration.md for every key. The typed options below are merged into it under
        the same YAML keys; setting a key both ways with different values is an error.
      '';
    };

    checkConfig = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Check the generated configuration with `metricstor config check` at build time.";
    };

    httpAddress = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1:9101";
      example = "0.0.0.0:9101";
      description = "host:port of the HTTP listener (API, remote write, web UI, /metrics).";
    };

    grpcAddress = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1:9102";
      description = "host:port of the gRPC listener.";
    };

    dataDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/metricstor";
      description = ''
        Directory of the embedded store. Under /var/lib it is the unit's StateDirectory (created
        and owned by the dynamic user); elsewhere it must exist and be writable by the service.
      '';
    };

    retentionDays = lib.mkOption {
      type = lib.types.addCheck lib.types.number (n: n > 0);
      default = 15;
      description = "Samples older than this many days are deleted.";
    };

    tls = {
      certFile = tlsFileOption "Certificate (PEM) of the HTTP and gRPC listeners";
      keyFile = tlsFileOption "Private key (PEM) of the listeners' certificate";
      caFile = tlsFileOption "CA bundle (PEM) that client certificates are checked against";
      requireClientCert = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = "Refuse clients without a certificate signed by tls.caFile (mutual TLS).";
      };
    };

    flaredb = {
      endpoints = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [ ];
        example = [
          "flaredb-1.internal:2479"
          "flaredb-2.internal:2479"
        ];
        description = "FlareDB endpoints (host:port). Non-empty: the data lives in FlareDB instead of the embedded store.";
      };
      namespace = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        description = "FlareDB namespace of the data (server default: metricstor).";
      };
      consistency = lib.mkOption {
        type = lib.types.nullOr (
          lib.types.enum [
            "strong"
            "eventual"
          ]
        );
        default = null;
        description = "strong (server default) or eventual; must match the namespace's mode on the cluster.";
      };
      leaseNamespace = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        description = "A strong namespace for the leases; required when consistency is eventual.";
      };
      tls = {
        certFile = tlsFileOption "Client certificate (PEM) presented to FlareDB";
        keyFile = tlsFileOption "Private key (PEM) of the FlareDB client certificate";
        caFile = tlsFileOption "CA (PEM) that FlareDB's certificate is checked against";
      };
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Open the HTTP and gRPC ports in the firewall.";
    };

    extraArgs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [
        "--server.log-level"
        "debug"
      ];
      description = "Extra command-line arguments of `metricstor serve`; flags override the file.";
    };
  };

  config = lib.mkIf cfg.enable {
    services.metricstor.settings = nestSettings typedSettings;

    assertions = [
      {
        assertion = (cfg.tls.certFile == null) == (cfg.tls.keyFile == null);
        message = "services.metricstor.tls.certFile and tls.keyFile must be set together.";
      }
      {
        assertion = !cfg.tls.requireClientCert || cfg.tls.caFile != null;
        message = "services.metricstor.tls.requireClientCert needs tls.caFile.";
      }
    ];

    warnings = lib.optional (
      cfg.openFirewall && lib.hasPrefix "127." cfg.httpAddress
    ) "services.metricstor.openFirewall is set but httpAddress (${cfg.httpAddress}) is a loopback address.";

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [
      (portOf cfg.httpAddress)
      (portOf cfg.grpcAddress)
    ];

    systemd.services.metricstor = {
      description = "Metricstor metrics store";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];

      serviceConfig = import ./hardening.nix // {
        ExecStart = lib.escapeShellArgs (
          [
            (lib.getExe cfg.package)
            "serve"
            "--config"
            "${checkedConfig}"
          ]
          ++ cfg.extraArgs
        );
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = "5s";
        TimeoutStopSec = "60s";

        DynamicUser = true;
        StateDirectory = lib.mkIf (lib.hasPrefix "/var/lib/" cfg.dataDir) (lib.removePrefix "/var/lib/" cfg.dataDir);
        StateDirectoryMode = "0700";
        ReadWritePaths = [ cfg.dataDir ];
        WorkingDirectory = cfg.dataDir;
        LoadCredential = lib.mapAttrsToList (name: file: "${name}:${file}") credentials;

      };
    };
  };
}
