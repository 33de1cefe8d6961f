# Evaluates the NixOS module without nixpkgs' package set: stub NixOS options and a stub pkgs whose
# files are written with builtins.toFile (JSON, which is YAML). Needs nixpkgs' lib only:
#   nix-instantiate --eval --strict --json --read-write-mode nix/tests/eval-module.nix \
#     --arg lib 'import <nixpkgs/lib>'
# (one attribute at a time with -A; pathLiteral is meant to fail). test/nix/module-eval.test.ts runs
# it and checks the generated files with the server's own configuration checker.
{ lib }:

let
  fakePackage = {
    type = "derivation";
    name = "metricstor";
    outPath = "/nix/store/00000000000000000000000000000000-metricstor";
    meta.mainProgram = "metricstor";
  };

  stubPkgs = {
    formats.yaml = _: {
      type = lib.types.attrsOf lib.types.anything;
      generate = name: value: builtins.toFile name (builtins.toJSON value);
    };
    writeText = builtins.toFile;
    runCommand = name: _env: script: builtins.toFile name script;
    coreutils = "/nix/store/00000000000000000000000000000000-coreutils";
    metricstor = fakePackage;
  };

  # The NixOS options the module sets, loosely typed.
  stubNixos =
    { lib, ... }:
    {
      options = {
        assertions = lib.mkOption {
          type = lib.types.listOf lib.types.unspecified;
          default = [ ];
        };
        warnings = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
        };
        networking.firewall.allowedTCPPorts = lib.mkOption {
          type = lib.types.listOf lib.types.port;
          default = [ ];
        };
        systemd.services = lib.mkOption {
          type = lib.types.attrsOf (lib.types.attrsOf lib.types.anything);
          default = { };
        };
      };
    };

  evaluate =
    serviceConfig:
    let
      config =
        (lib.evalModules {
          modules = [
            stubNixos
            ../modules/metricstor.nix
            { _module.args.pkgs = stubPkgs; }
            { services.metricstor = serviceConfig; }
          ];
        }).config;
      unit = config.systemd.services.metricstor;
    in
    {
      settings = config.services.metricstor.settings;
      execStart = unit.serviceConfig.ExecStart;
      serviceConfig = unit.serviceConfig;
      ports = config.networking.firewall.allowedTCPPorts;
      failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
      inherit (config) warnings;
    };
in
{
  minimal = evaluate { enable = true; };

  full = evaluate {
    enable = true;
    httpAddress = "0.0.0.0:9201";
    grpcAddress = "0.0.0.0:9202";
    dataDir = "/var/lib/metrics";
    retentionDays = 30;
    openFirewall = true;
    extraArgs = [
      "--server.log-level"
      "debug"
    ];
    tls = {
      certFile = "/run/keys/metricstor/cert.pem";
      keyFile = "/run/keys/metricstor/key.pem";
      caFile = "/run/keys/metricstor/ca.pem";
      requireClientCert = true;
    };
    flaredb = {
      endpoints = [
        "flaredb-1:2479"
        "flaredb-2:2479"
      ];
      namespace = "metrics";
      consistency = "eventual";
      leaseNamespace = "metrics-leases";
      tls = {
        certFile = "/run/keys/flaredb/cert.pem";
        keyFile = "/run/keys/flaredb/key.pem";
        caFile = "/run/keys/flaredb/ca.pem";
      };
    };
    settings = {
      query.timeout = "1m";
      server.auth.bearer_token_file = "/etc/metricstor/tokens";
    };
  };

  # A Nix path literal would copy the key into the store: the option refuses it.
  pathLiteral =
    (evaluate {
      enable = true;
      tls.certFile = ./eval-module.nix;
      tls.keyFile = "/run/keys/key.pem";
    }).serviceConfig.LoadCredential;

  # A certificate without its key, and requireClientCert without a CA: the assertions must say so.
  inconsistent = evaluate {
    enable = true;
    tls = {
      certFile = "/run/keys/cert.pem";
      requireClientCert = true;
    };
  };
}
