/** gRPC over TLS: the same handshake rules, identity checks, auth and reloads as HTTPS. */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import { Client, credentials as channelCredentials, Metadata, Server, status, type ServiceError } from '@grpc/grpc-js';
import { AuthCredentials } from '../../src/api/auth-credentials.js';
import { AccessPolicy } from '../../src/tls/access.js';
import { grpcAccessInterceptor, grpcServerCredentials } from '../../src/tls/grpc.js';
import { TlsReloader } from '../../src/tls/reloader.js';
import { makeLeaf, makeTestPki, requireOpenssl, sharedTestPki, type KeyPair, type TestPki } from '../helpers/certs.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from './client.js';

/** A one-method service of raw bytes, plus a stand-in for the health service (a probe). */
const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (p: string) => ({
  path: p,
  requestStream: false,
  responseStream: false,
  requestSerialize: bytes.serialize,
  requestDeserialize: bytes.deserialize,
  responseSerialize: bytes.serialize,
  responseDeserialize: bytes.deserialize,
});
const ECHO = '/metricstor.test.Echo/Echo';
const HEALTH = '/grpc.health.v1.Health/Check';

interface Listener {
  readonly address: string;
  readonly reloader: TlsReloader;
  close(): void;
}

async function startEcho(
  files: { certFile: string; keyFile: string; caFile: string },
  access: { policy?: AccessPolicy; credentials?: AuthCredentials },
): Promise<Listener> {
  const reloader = await TlsReloader.open({ ...files, requireClientCert: true }, { debounceMs: 50, sighup: false });
  const server = new Server({ interceptors: [grpcAccessInterceptor(access)] });
  const echo = (call: { request: Buffer }, callback: (err: null, reply: Buffer) => void) => callback(null, call.request);
  server.addService({ Echo: method(ECHO) }, { Echo: echo });
  server.addService({ Check: method(HEALTH) }, { Check: echo });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpcServerCredentials(reloader), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    reloader,
    close: () => {
      reloader.close();
      server.forceShutdown();
    },
  };
}

function clientFor(address: string, caFile: string, pair?: KeyPair): Client {
  return new Client(
    address,
    channelCredentials.createSsl(
      readFileSync(caFile),
      pair === undefined ? null : readFileSync(pair.keyFile),
      pair === undefined ? null : readFileSync(pair.certFile),
    ),
    // The server certificate names 127.0.0.1 too, but SNI may not carry an IP address.
    { 'grpc.ssl_target_name_override': 'localhost' },
  );
}

function call(client: Client, methodPath: string, metadata = new Metadata()): Promise<{ ok: true } | { ok: false; code: status; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      methodPath,
      bytes.serialize,
      bytes.deserialize,
      Buffer.from('ping'),
      metadata,
      { deadline: Date.now() + 5000 },
      (err: ServiceError | null, reply?: Buffer) => {
        if (err) resolve({ ok: false, code: err.code, details: err.details });
        else resolve(reply?.toString() === 'ping' ? { ok: true } : { ok: false, code: status.INTERNAL, details: 'bad reply' });
      },
    );
  });
}

describe('gRPC with client certificates', function () {
  this.timeout(20_000);
  let dir: string;
  let pki: TestPki;
  let outsider: KeyPair;
  const clients: Client[] = [];
  const listeners: Listener[] = [];
  const client = (address: string, caFile: string, pair?: KeyPair): Client => {
    const c = clientFor(address, caFile, pair);
    clients.push(c);
    return c;
  };

  before(async function () {
    requireOpenssl(this);
    dir = await tempDir('tls-grpc');
    pki = await sharedTestPki();
    outsider = await makeLeaf(dir, 'outsider', pki.ca, { commonName: 'someone.else.test' });
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const l of listeners.splice(0)) l.close();
  });

  const files = () => ({ certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile });

  it('refuses clients without a certificate or with one from another CA, and TLS 1.1', async () => {
    const l = await startEcho(files(), {});
    listeners.push(l);
    for (const pair of [undefined, pki.rogue]) {
      const answer = await call(client(l.address, pki.ca.certFile, pair), ECHO);
      expect(answer.ok, String(pair?.certFile)).to.equal(false);
      if (!answer.ok) expect(answer.code).to.equal(status.UNAVAILABLE);
    }
    expect((await call(client(l.address, pki.ca.certFile, pki.writer), ECHO)).ok).to.equal(true);

    const [host, port] = l.address.split(':');
    const code = await new Promise<string | undefined>((resolve) => {
      const socket = tls.connect({
        host,
        port: Number(port),
        ca: readFileSync(pki.ca.certFile),
        cert: readFileSync(pki.writer.certFile),
        key: readFileSync(pki.writer.keyFile),
        ALPNProtocols: ['h2'],
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT:@SECLEVEL=0',
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    });
    expect(code).to.equal('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('answers PERMISSION_DENIED naming the identity to a client outside the readers, but lets it probe health', async () => {
    const l = await startEcho(files(), { policy: new AccessPolicy({ allowedReaders: ['grafana.*', 'writer.metricstor.test'] }) });
    listeners.push(l);
    expect((await call(client(l.address, pki.ca.certFile, pki.reader), ECHO)).ok).to.equal(true);
    expect((await call(client(l.address, pki.ca.certFile, pki.writer), ECHO)).ok).to.equal(true);
    const denied = await call(client(l.address, pki.ca.certFile, outsider), ECHO);
    expect(denied).to.deep.include({ ok: false, code: status.PERMISSION_DENIED });
    if (!denied.ok) expect(denied.details).to.contain('CN=someone.else.test').and.contain('read');
    expect((await call(client(l.address, pki.ca.certFile, outsider), HEALTH)).ok).to.equal(true);
  });

  it('checks bearer tokens in the authorization metadata', async () => {
    const tokenFile = path.join(dir, 'grpc-tokens');
    await writeFile(tokenFile, 'grpc-token\n');
    const credentials = await AuthCredentials.open({ bearerTokenFile: tokenFile }, { watchFiles: false, sighup: false });
    const l = await startEcho(files(), { credentials });
    listeners.push(l);
    try {
      const c = client(l.address, pki.ca.certFile, pki.reader);
      expect(await call(c, ECHO)).to.deep.include({ ok: false, code: status.UNAUTHENTICATED });
      const wrong = new Metadata();
      wrong.set('authorization', 'Bearer nope');
      expect(await call(c, ECHO, wrong)).to.deep.include({ ok: false, code: status.UNAUTHENTICATED });
      const right = new Metadata();
      right.set('authorization', 'Bearer grpc-token');
      expect((await call(c, ECHO, right)).ok).to.equal(true);
      expect((await call(c, HEALTH)).ok).to.equal(true);
    } finally {
      credentials.close();
    }
  });

  it('serves reloaded certificates to new connections while an open channel keeps working', async () => {
    const fresh = await makeTestPki(dir, 'grpc-new-');
    const liveDir = path.join(dir, 'grpc-live');
    await mkdir(liveDir);
    const live = { certFile: path.join(liveDir, 'server.crt'), keyFile: path.join(liveDir, 'server.key'), caFile: path.join(liveDir, 'ca.crt') };
    await Promise.all([
      copyFile(pki.server.certFile, live.certFile),
      copyFile(pki.server.keyFile, live.keyFile),
      copyFile(pki.ca.certFile, live.caFile),
    ]);
    const l = await startEcho(live, {});
    listeners.push(l);
    const established = client(l.address, pki.ca.certFile, pki.writer);
    expect((await call(established, ECHO)).ok).to.equal(true);

    for (const [from, to] of [
      [fresh.server.keyFile, live.keyFile],
      [fresh.server.certFile, live.certFile],
      [fresh.ca.certFile, live.caFile],
    ] as const) {
      await copyFile(from, `${to}.new`);
      await rename(`${to}.new`, to);
    }
    // A client that trusts only the new CA gets through once the new certificate is served.
    expect(await eventually(async () => (await call(client(l.address, fresh.ca.certFile, fresh.writer), ECHO)).ok, 5000)).to.equal(true);
    expect((await call(established, ECHO)).ok, 'the channel opened before the reload').to.equal(true);
    expect((await call(client(l.address, pki.ca.certFile, pki.writer), ECHO)).ok, 'a new connection under the old CA').to.equal(false);
  });
});
