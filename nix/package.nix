# Metricstor as a Nix package: the npm project built with buildNpmPackage (server, CLI and web UI).
{
  lib,
  buildNpmPackage,
  nodejs_20,
  python3,
}:

let
  root = ../.;
  # Left out of the source: local installs, build output, data and test artefacts.
  excluded = [
    "node_modules"
    "dist"
    "data"
    "test-output"
    ".bench"
    "result"
    "flaredb-client/node_modules"
    "flaredb-client/dist"
  ];
in
buildNpmPackage {
  pname = "metricstor";
  version = (lib.importJSON (root + "/package.json")).version;

  src = lib.cleanSourceWith {
    src = root;
    filter =
      path: type:
      let
        relative = lib.removePrefix (toString root + "/") (toString path);
      in
      !(lib.elem relative excluded) && lib.cleanSourceFilter path type;
  };

  nodejs = nodejs_20;

  # Placeholder: the hash of the npm dependency cache cannot be computed without fetching the
  # dependencies. The first build fails and prints the right value ("got: sha256-..."); put it
  # here. nix/README.md explains this and the alternative with prefetch-npm-deps.
  npmDepsHash = lib.fakeHash;

  # node-gyp, should a native dependency (lmdb, classic-level, snappy) lack a prebuilt binary.
  nativeBuildInputs = [ python3 ];

  npmBuildScript = "build";

  # The workspace package (flaredb-client) is a symlink into the source tree in node_modules;
  # replace it with its built files so the installed package stands alone.
  postInstall = ''
    pkgdir=$out/lib/node_modules/metricstor
    client=$pkgdir/node_modules/@metricstor/flaredb-client
    rm -rf "$client"
    mkdir -p "$client"
    cp -r flaredb-client/package.json flaredb-client/dist "$client"/
    # The compiled server and the bundled web UI, which npm's packing rules (.gitignore) leave out.
    mkdir -p "$pkgdir/dist"
    cp -r dist/src dist/web "$pkgdir/dist/"
  '';

  meta = {
    description = "Prometheus-compatible metrics store: remote_write in, PromQL out";
    license = lib.licenses.asl20;
    mainProgram = "metricstor";
    platforms = lib.platforms.linux;
  };
}
