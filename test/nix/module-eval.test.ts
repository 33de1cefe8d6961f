/**
 * Evaluates the NixOS module with nixpkgs' lib (nix/tests/eval-module.nix: stub pkgs and NixOS
 * options) and checks what it generates with the server's own configuration checker. Needs
 * nix-instantiate and nixpkgs' lib: METRICSTOR_NIXPKGS_LIB=<path of nixpkgs/lib>, or <nixpkgs> on
 * NIX_PATH. Skipped loudly without them (CI installs nix-bin but not nixpkgs).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { checkConfig } from '../../src/config/load.js';
import { settingByKey } from '../../src/config/schema.js';
import { REPO_ROOT } from './nix-files.js';

const HARNESS = path.join(REPO_ROOT, 'nix', 'tests', 'eval-module.nix');

interface Evaluation {
  settings: Record<string, unknown>;
  execStart: string;
  serviceConfig: Record<string, unknown>;
  ports: number[];
  failedAssertions: string[];
  warnings: string[];
}

function libExpression(): string | undefined {
  const dir = process.env['METRICSTOR_NIXPKGS_LIB'];
  if (dir !== undefined && dir !== '') return `import ${path.resolve(dir)}`;
  const probe = spawnSync('nix-instantiate', ['--eval', '-E', '(import <nixpkgs/lib>).version'], { encoding: 'utf8', timeout: 20_000 });
  return probe.status === 0 ? 'import <nixpkgs/lib>' : undefined;
}

function evaluate(lib: string, attribute: string): { ok: true; value: Evaluation } | { ok: false; stderr: string } {
  const run = spawnSync(
    'nix-instantiate',
    ['--eval', '--strict', '--json', '--read-write-mode', HARNESS, '--arg', 'lib', lib, '-A', attribute],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (run.status !== 0) return { ok: false, stderr: run.stderr };
  return { ok: true, value: JSON.parse(run.stdout) as Evaluation };
}

function mustEvaluate(lib: string, attribute: string): Evaluation {
  const result = evaluate(lib, attribute);
  if (!result.ok) throw new Error(`evaluating ${attribute} failed:\n${result.stderr}`);
  return result.value;
}

/** Dotted keys of every leaf of a nested settings object (lists are leaves). */
function leafKeys(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafKeys(v, prefix === '' ? k : `${prefix}.${k}`));
}

/** The file passed to --config, and the file `metricstor config check` runs on at build time. */
function configFiles(execStart: string): { configFile: string; checkFile: string } {
  const checked = /--config (\S+)/.exec(execStart)?.[1];
  if (checked === undefined) throw new Error(`no --config in ${execStart}`);
  const script = readFileSync(checked, 'utf8');
  const checkFile = /metricstor config check (\S+)/.exec(script)?.[1];
  const configFile = /ln -s (\S+) \$out/.exec(script)?.[1];
  if (checkFile === undefined || configFile === undefined) throw new Error(`unexpected check script:\n${script}`);
  return { configFile, checkFile };
}

describe('NixOS module evaluated with nixpkgs lib', function () {
  this.timeout(120_000);
  let lib: string;

  before(function () {
    const found = spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8' }).status === 0 ? libExpression() : undefined;
    if (found === undefined) {
      console.warn('\n    SKIPPED: nixpkgs lib not found (set METRICSTOR_NIXPKGS_LIB); the module was not evaluated\n');
      this.skip();
    }
    lib = found;
  });

  it('writes the typed options under keys the server accepts, and the check copy passes the server checker', () => {
    const full = mustEvaluate(lib, 'full');
    expect(full.failedAssertions).to.deep.equal([]);
    const keys = leafKeys(full.settings);
    expect(keys.filter((k) => settingByKey(k) === undefined)).to.deep.equal([]);
    expect(keys).to.include.members(['server.http_addr', 'storage.flaredb.endpoints', 'storage.flaredb.tls.key_file', 'query.timeout']);

    const { configFile, checkFile } = configFiles(full.execStart);
    const checkProblems = checkConfig({ file: { name: checkFile, text: readFileSync(checkFile, 'utf8') } });
    expect(checkProblems, 'the file checked at build time').to.deep.equal([]);

    // The real file differs only in the host files, which exist when the service runs.
    const real = checkConfig({ file: { name: configFile, text: readFileSync(configFile, 'utf8') } });
    expect(real.map((p) => p.message).every((m) => /cannot read (\/run\/credentials\/metricstor\.service\/|\/etc\/metricstor\/tokens)/.test(m))).to.equal(true);
    expect(real).to.have.length(7);
  });

  it('passes TLS files by LoadCredential and points the configuration at the credentials', () => {
    const full = mustEvaluate(lib, 'full');
    const credentials = full.serviceConfig['LoadCredential'] as string[];
    expect(credentials).to.include.members(['tls-cert:/run/keys/metricstor/cert.pem', 'flaredb-tls-key:/run/keys/flaredb/key.pem']);
    expect(credentials).to.have.length(6);
    const tls = (full.settings['server'] as Record<string, Record<string, unknown>>)['tls']!;
    expect(tls['key_file']).to.equal('/run/credentials/metricstor.service/tls-key');
    expect(JSON.stringify(full.settings)).not.to.contain('/run/keys/');
  });

  it('runs hardened under a dynamic user with its state directory', () => {
    const full = mustEvaluate(lib, 'full');
    const unit = full.serviceConfig;
    expect(unit).to.include({
      DynamicUser: true,
      StateDirectory: 'metrics',
      Restart: 'on-failure',
      NoNewPrivileges: true,
      ProtectSystem: 'strict',
      ProtectHome: true,
      PrivateTmp: true,
      PrivateDevices: true,
      CapabilityBoundingSet: '',
    });
    expect(unit['ReadWritePaths']).to.deep.equal(['/var/lib/metrics']);
    expect(unit['SystemCallFilter']).to.include('@system-service');
    expect(unit['RestrictAddressFamilies']).to.deep.equal(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    expect(full.execStart).to.match(/\/bin\/metricstor serve --config \S+ --server\.log-level debug$/);
    expect(full.ports).to.deep.equal([9201, 9202]);
  });

  it('writes only the defaults it owns when nothing is set', () => {
    const minimal = mustEvaluate(lib, 'minimal');
    expect(minimal.settings).to.deep.equal({
      server: { http_addr: '127.0.0.1:9101', grpc_addr: '127.0.0.1:9102' },
      storage: { data_dir: '/var/lib/metricstor', retention_days: 15 },
    });
    expect(minimal.serviceConfig['LoadCredential']).to.deep.equal([]);
    expect(minimal.ports).to.deep.equal([]);
  });

  it('refuses inconsistent TLS options and Nix path literals for secrets', () => {
    expect(mustEvaluate(lib, 'inconsistent').failedAssertions).to.deep.equal([
      'services.metricstor.tls.certFile and tls.keyFile must be set together.',
      'services.metricstor.tls.requireClientCert needs tls.caFile.',
    ]);
    const literal = evaluate(lib, 'pathLiteral');
    expect(literal.ok).to.equal(false);
    if (!literal.ok) expect(literal.stderr).to.match(/tls\.certFile/);
  });
});
