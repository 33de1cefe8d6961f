/**
 * Certificates made with openssl at test time: CAs, and server or client certificates signed by
 * them (EC P-256, valid for two days). Without openssl, tests skip loudly, or fail under CI=true.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface LeafOptions {
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly uris?: readonly string[];
}

let available: boolean | undefined;

export function opensslAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Call from a `before` hook: skips the suite without openssl (with a message), or fails when CI=true. */
export function requireOpenssl(context: Mocha.Context): void {
  if (opensslAvailable()) return;
  if (process.env['CI'] === 'true') throw new Error('openssl is required for the TLS tests (CI=true)');
  process.stderr.write('SKIPPING TLS tests: openssl is not installed\n');
  context.skip();
}

/** A self-signed CA; files `<name>.crt` and `<name>.key` in dir. */
export async function makeCa(dir: string, name: string): Promise<KeyPair> {
  const pair = filesOf(dir, name);
  await run('openssl', [
    'req', '-x509', '-new', '-nodes',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-keyout', pair.keyFile, '-out', pair.certFile,
    '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

/** A certificate for serverAuth and clientAuth signed by ca; files `<name>.crt` / `<name>.key` in dir. */
export async function makeLeaf(dir: string, name: string, ca: KeyPair, options: LeafOptions): Promise<KeyPair> {
  const pair = filesOf(dir, name);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  const san = [
    ...(options.dnsNames ?? []).map((n) => `DNS:${n}`),
    ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`),
    ...(options.uris ?? []).map((u) => `URI:${u}`),
  ];
  await writeFile(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  await run('openssl', [
    'req', '-new', '-nodes',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-keyout', pair.keyFile, '-out', csr, '-subj', `/CN=${options.commonName}`,
  ]);
  await run('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '2', '-extfile', ext, '-out', pair.certFile,
  ]);
  return pair;
}

/** The usual cast: a CA, an unrelated CA, a server cert for 127.0.0.1/localhost, and three clients. */
export interface TestPki {
  readonly ca: KeyPair;
  readonly otherCa: KeyPair;
  readonly server: KeyPair;
  /** CN=writer.metricstor.test, SAN URI spiffe://metricstor.test/writer. */
  readonly writer: KeyPair;
  /** CN=reader.metricstor.test, SAN DNS grafana.metricstor.test. */
  readonly reader: KeyPair;
  /** CN=writer.metricstor.test but signed by otherCa. */
  readonly rogue: KeyPair;
}

export async function makeTestPki(dir: string, prefix = ''): Promise<TestPki> {
  const [ca, otherCa] = await Promise.all([makeCa(dir, `${prefix}ca`), makeCa(dir, `${prefix}other-ca`)]);
  const [server, writer, reader, rogue] = await Promise.all([
    makeLeaf(dir, `${prefix}server`, ca, { commonName: 'metricstor', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }),
    makeLeaf(dir, `${prefix}writer`, ca, { commonName: 'writer.metricstor.test', uris: ['spiffe://metricstor.test/writer'] }),
    makeLeaf(dir, `${prefix}reader`, ca, { commonName: 'reader.metricstor.test', dnsNames: ['grafana.metricstor.test'] }),
    makeLeaf(dir, `${prefix}rogue`, otherCa, { commonName: 'writer.metricstor.test' }),
  ]);
  return { ca, otherCa, server, writer, reader, rogue };
}

let shared: Promise<TestPki> | undefined;

/** One PKI per test process for suites that only read it (generating one costs about a second). */
export function sharedTestPki(): Promise<TestPki> {
  shared ??= mkdtemp(path.join(os.tmpdir(), 'metricstor-pki-')).then((dir) => makeTestPki(dir));
  return shared;
}

function filesOf(dir: string, name: string): KeyPair {
  return { certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) };
}
