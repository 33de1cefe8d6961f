{
  description = "Metricstor: a Prometheus-compatible metrics store (remote_write in, PromQL out)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        metricstor = pkgs.callPackage ./nix/package.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.metricstor;
      });

      nixosModules.metricstor =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/modules/metricstor.nix ];
          services.metricstor.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
      nixosModules.default = self.nixosModules.metricstor;

      overlays.default = final: _prev: { metricstor = final.callPackage ./nix/package.nix { }; };
    };
}
