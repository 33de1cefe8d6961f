import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { FlareDbClient, type FlareDbClientOptions } from '../src/client.js';
import { startDevServer, type DevServer } from '../src/dev-server.js';
import { bytes, hex, rejectionOf } from './helpers.js';
import { generateTlsFixtures, type TlsFixtures } from './tls-fixtures.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('FlareDB over mTLS', function () {
  this.timeout(30_000);
  let dir: string;
  let certs: TlsFixtures;
  let server: DevServer;
  const clients: FlareDbClient[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flaredb-tls-'));
    certs = generateTlsFixtures(dir);
    server = await startDevServer({
      defaultMode: 'eventual',
      sync: false,
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.caCert, requireClientCert: true },
    });
  });

  after(async () => {
    for (const c of clients) await c.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function client(tls: FlareDbClientOptions['tls'], address = server.address): FlareDbClient {
    const c = new FlareDbClient({ endpoints: [address], tls, serverNameOverride: 'localhost', timeoutMs: 3000, maxAttempts: 1 });
    clients.push(c);
    return c;
  }

  it('serves a client with a certificate from the trusted CA', async () => {
    const c = client({ caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey });
    await c.rawPut(bytes(1), bytes(5));
    expect(hex(await c.rawGet(bytes(1)))).to.equal('05');
  });

  it('rejects a client without a certificate', async () => {
    const err = await rejectionOf(client({ caFile: certs.caCert }).rawGet(bytes(1)));
    expect(err.code).to.equal(status.UNAVAILABLE);
  });

  it('rejects a client whose certificate another CA signed', async () => {
    const c = client({ caFile: certs.caCert, certFile: certs.otherClientCert, keyFile: certs.otherClientKey });
    const err = await rejectionOf(c.rawGet(bytes(1)));
    expect(err.code).to.equal(status.UNAVAILABLE);
  });

  it('refuses a server whose certificate the client CA did not sign', async () => {
    const c = client({ caFile: certs.otherCaCert, certFile: certs.clientCert, keyFile: certs.clientKey });
    const err = await rejectionOf(c.rawGet(bytes(1)));
    expect(err.code).to.equal(status.UNAVAILABLE);
  });

  it('refuses a plaintext client', async () => {
    const err = await rejectionOf(client(undefined).rawGet(bytes(1)));
    expect(err.code).to.equal(status.UNAVAILABLE);
  });

  it('runs the flaredb-dev command with TLS flags until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "import { main } from './src/dev-server-cli.ts'; await main(process.argv.slice(1));",
        '--', '--addr', '127.0.0.1:0', '--namespace', 'm=eventual', '--no-sync',
        '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-ca', certs.caCert, '--require-client-cert'],
      { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no listening line in 15s: ${out}`)), 15_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      const c = client({ caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey }, address);
      await c.rawPut(bytes(2), bytes(6), { namespace: 'm' });
      expect(hex(await c.rawGet(bytes(2), { namespace: 'm' }))).to.equal('06');
      expect((await rejectionOf(c.get(bytes(2), { namespace: 'm' }))).code).to.equal(status.FAILED_PRECONDITION);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
