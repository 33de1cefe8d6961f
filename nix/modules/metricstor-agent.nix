# NixOS module for the scrape agent: services.metricstor.agent (imported by metricstor.nix).
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.metricstor.agent;
  settingsFormat = pkgs.formats.yaml { };

  serviceName = "metricstor-agent";
  credentialsDir = "/run/credentials/${serviceName}.service";
  credentialPath = name: "${credentialsDir}/${name}";

  # Credential name → source file on the host, for every TLS file that is set.
  credentials = lib.filterAttrs (_: file: file != null) {
    "remote-tls-cert" = cfg.tls.certFile;
    "remote-tls-key" = cfg.tls.keyFile;
    "remote-tls-ca" = cfg.tls.caFile;
    "target-tls-cert" = cfg.targetTls.certFile;
    "target-tls-key" = cfg.targetTls.keyFile;
    "target-tls-ca" = cfg.targetTls.caFile;
  };

  # A tls_config block from the credentials with this prefix; null when none is set.
  tlsConfig =
    prefix:
    let
      block = lib.filterAttrs (_: v: v != null) {
        ca_file = if credentials ? "${prefix}-ca" then credentialPath "${prefix}-ca" else null;
        cert_file = if credentials ? "${prefix}-cert" then credentialPath "${prefix}-cert" else null;
        key_file = if credentials ? "${prefix}-key" then credentialPath "${prefix}-key" else null;
      };
    in
    if block == { } then null else block;

  withoutNulls = lib.filterAttrs (_: v: v != null);

  typedSettings = {
    listen_addr = cfg.listenAddress;
    queue_dir = cfg.queueDir;
    global = {
      scrape_interval = cfg.scrapeInterval;
      scrape_timeout = cfg.scrapeTimeout;
    };
    scrape_configs = lib.optional (cfg.targets != [ ]) (withoutNulls {
      job_name = cfg.jobName;
      scheme = cfg.targetScheme;
      tls_config = tlsConfig "target-tls";
      static_configs = [ { targets = cfg.targets; } ];
    });
    remote_write = map (
      url:
      withoutNulls {
        inherit url;
        tls_config = tlsConfig "remote-tls";
      }
    ) cfg.remoteWriteUrls;
  };

  configFile = settingsFormat.generate "metricstor-agent.yaml" cfg.settings;

  tlsFileOption =
    what:
    lib.mkOption {
      # An absolute path as a string: a Nix path literal would copy the secret into the store.
      type = lib.types.nullOr (lib.types.strMatching "/.*");
      default = null;
      example = "/run/keys/metricstor-agent/client.pem";
      description = ''
        ${what} file on the host. Passed to the service with systemd's LoadCredential, so it
        stays outside the Nix store and only the service can read its copy.
      '';
    };
in
{
  options.services.metricstor.agent = {
    enable = lib.mkEnableOption "the Metricstor scrape agent (scrapes targets, pushes by remote write)";

    package = lib.mkOption {
      type = lib.types.package;
      default = config.services.metricstor.package;
      defaultText = lib.literalExpression "config.services.metricstor.package";
      description = "The package providing `metricstor agent`.";
    };

    settings = lib.mkOption {
      type = settingsFormat.type;
      default = { };
      example = lib.literalExpression ''
        {
          scrape_configs = [
            { job_name = "node"; static_configs = [ { targets = [ "127.0.0.1:9100" ]; } ]; }
          ];
        }
      '';
      description = ''
        The agent's YAML file (docs/agent.md). The typed options below are written into it;
        scrape_configs and remote_write given here are added to theirs.
      '';
    };

    listenAddress = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1:9103";
      description = "host:port of the agent's own /metrics and /-/healthy.";
    };

    jobName = lib.mkOption {
      type = lib.types.str;
      default = "platform";
      description = "job label of the targets below.";
    };

    targets = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = map (port: "127.0.0.1:${toString port}") (lib.range 9091 9099);
      description = "host:port of each metrics page to scrape; by default the platform services on 127.0.0.1:9091-9099.";
    };

    targetScheme = lib.mkOption {
      type = lib.types.enum [
        "http"
        "https"
      ];
      default = "http";
      description = "How the targets are scraped; https uses targetTls.";
    };

    scrapeInterval = lib.mkOption {
      type = lib.types.str;
      default = "15s";
      description = "Time between scrapes of a target.";
    };

    scrapeTimeout = lib.mkOption {
      type = lib.types.str;
      default = "10s";
      description = "A scrape that takes longer fails (up 0); at most scrapeInterval.";
    };

    remoteWriteUrls = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ "http://127.0.0.1:9101/api/v1/write" ];
      example = [ "https://metricstor.internal:9101/api/v1/write" ];
      description = "Metricstor remote-write endpoints; every sample goes to each of them.";
    };

    tls = {
      certFile = tlsFileOption "Client certificate (PEM) presented to Metricstor";
      keyFile = tlsFileOption "Private key (PEM) of that client certificate";
      caFile = tlsFileOption "CA (PEM) that Metricstor's certificate is checked against";
    };

    targetTls = {
      certFile = tlsFileOption "Client certificate (PEM) presented to https targets";
      keyFile = tlsFileOption "Private key (PEM) of the targets' client certificate";
      caFile = tlsFileOption "CA (PEM) that the targets' certificates are checked against";
    };

    queueDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/metricstor-agent";
      description = ''
        Where samples still queued at shutdown are kept until the next start. Under /var/lib it
        is the unit's StateDirectory.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    services.metricstor.agent.settings = typedSettings;

    assertions = [
      {
        assertion = (cfg.tls.certFile == null) == (cfg.tls.keyFile == null);
        message = "services.metricstor.agent.tls.certFile and tls.keyFile must be set together.";
      }
      {
        assertion = (cfg.targetTls.certFile == null) == (cfg.targetTls.keyFile == null);
        message = "services.metricstor.agent.targetTls.certFile and targetTls.keyFile must be set together.";
      }
      {
        assertion = cfg.remoteWriteUrls != [ ] || (cfg.settings.remote_write or [ ]) != [ ];
        message = "services.metricstor.agent needs at least one remote write URL.";
      }
    ];

    systemd.services.metricstor-agent = {
      description = "Metricstor scrape agent";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];

      serviceConfig = import ./hardening.nix // {
        ExecStart = lib.escapeShellArgs [
          (lib.getExe cfg.package)
          "agent"
          "--config"
          "${configFile}"
        ];
        Restart = "on-failure";
        RestartSec = "5s";
        # The agent sends what is queued for up to 5 s, then writes the rest to queueDir.
        TimeoutStopSec = "30s";

        DynamicUser = true;
        StateDirectory = lib.mkIf (lib.hasPrefix "/var/lib/" cfg.queueDir) (lib.removePrefix "/var/lib/" cfg.queueDir);
        StateDirectoryMode = "0700";
        ReadWritePaths = [ cfg.queueDir ];
        WorkingDirectory = cfg.queueDir;
        LoadCredential = lib.mapAttrsToList (name: file: "${name}:${file}") credentials;

      };
    };
  };
}
