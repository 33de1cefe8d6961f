/** Certificate reloads: new connections see new files, established ones keep working, bad files change nothing. */
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { expect } from 'chai';
import Koa from 'koa';
import { listen, type HttpServer } from '../../src/api/server.js';
import { TlsReloader } from '../../src/tls/reloader.js';
import { makeTestPki, requireOpenssl, sharedTestPki, type TestPki } from '../helpers/certs.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually, fingerprintOf, httpsRequest, requestFails } from './client.js';

/** Replaces a file the way deployment tools do: write beside it, then rename over it. */
async function replaceFile(from: string, to: string): Promise<void> {
  const staging = `${to}.new`;
  await copyFile(from, staging);
  await rename(staging, to);
}

interface Fixture {
  readonly old: TestPki;
  readonly fresh: TestPki;
  /** The paths the server reads; they start as copies of `old`. */
  readonly live: { certFile: string; keyFile: string; caFile: string };
  readonly reloader: TlsReloader;
  readonly http: HttpServer;
  readonly failures: unknown[];
}

async function start(old: TestPki, fresh: TestPki, watch: { watchFiles: boolean }): Promise<Fixture> {
  const liveDir = path.join(await tempDir('tls-reload-live'), 'live');
  await mkdir(liveDir);
  const live = {
    certFile: path.join(liveDir, 'server.crt'),
    keyFile: path.join(liveDir, 'server.key'),
    caFile: path.join(liveDir, 'ca.crt'),
  };
  await Promise.all([
    copyFile(old.server.certFile, live.certFile),
    copyFile(old.server.keyFile, live.keyFile),
    copyFile(old.ca.certFile, live.caFile),
  ]);
  const failures: unknown[] = [];
  const reloader = await TlsReloader.open({ ...live, requireClientCert: true }, { ...watch, debounceMs: 50 });
  reloader.onReloadFailure((err) => failures.push(err));
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  const http = await listen(app, '127.0.0.1:0', reloader);
  return { old, fresh, live, reloader, http, failures };
}

async function swapToFresh(f: Fixture): Promise<void> {
  await replaceFile(f.fresh.server.keyFile, f.live.keyFile);
  await replaceFile(f.fresh.server.certFile, f.live.certFile);
  await replaceFile(f.fresh.ca.certFile, f.live.caFile);
}

describe('TLS certificate reload', function () {
  this.timeout(20_000);
  let fixture: Fixture | undefined;
  let old: TestPki;
  let fresh: TestPki;

  before(async function () {
    requireOpenssl(this);
    const dir = await tempDir('tls-reload');
    [old, fresh] = await Promise.all([sharedTestPki(), makeTestPki(dir, 'new-')]);
  });

  afterEach(async () => {
    fixture?.reloader.close();
    await fixture?.http.close();
    fixture = undefined;
  });

  it('serves replaced files to new connections while a keep-alive connection keeps working', async () => {
    const f = (fixture = await start(old, fresh, { watchFiles: true }));
    const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const oldClient = { caFile: f.old.ca.certFile, client: f.old.writer, agent: keepAlive };
      const first = await httpsRequest(f.http.address, '/', oldClient);
      expect(first.status).to.equal(200);
      expect(first.serverFingerprint).to.equal(fingerprintOf(f.old.server.certFile));

      await swapToFresh(f);
      const newClient = { caFile: f.fresh.ca.certFile, client: f.fresh.writer };
      const switched = await eventually(
        async () => (await httpsRequest(f.http.address, '/', newClient)).serverFingerprint === fingerprintOf(f.fresh.server.certFile),
        5000,
      );
      expect(switched, 'a new connection sees the new certificate').to.equal(true);

      // The connection made before the swap still carries requests, with the old certificate.
      const again = await httpsRequest(f.http.address, '/', oldClient);
      expect(again.status).to.equal(200);
      expect(again.reusedSocket).to.equal(true);
      expect(again.serverFingerprint).to.equal(fingerprintOf(f.old.server.certFile));

      // The old CA is gone: a new connection with a certificate it signed is refused.
      await requestFails(httpsRequest(f.http.address, '/', { caFile: f.fresh.ca.certFile, client: f.old.writer }));
    } finally {
      keepAlive.destroy();
    }
  });

  it('keeps the certificates in force when a file is caught half-written, and takes the next good one', async () => {
    const f = (fixture = await start(old, fresh, { watchFiles: true }));
    const oldClient = { caFile: f.old.ca.certFile, client: f.old.writer };
    const pem = await readFile(f.fresh.server.certFile, 'utf8');
    await writeFile(f.live.certFile, pem.slice(0, Math.floor(pem.length / 2)));
    expect(await eventually(async () => f.failures.length > 0, 5000), 'the bad file was noticed').to.equal(true);
    const during = await httpsRequest(f.http.address, '/', oldClient);
    expect(during.status).to.equal(200);
    expect(during.serverFingerprint).to.equal(fingerprintOf(f.old.server.certFile));

    await swapToFresh(f);
    const newClient = { caFile: f.fresh.ca.certFile, client: f.fresh.writer };
    expect(
      await eventually(async () => (await httpsRequest(f.http.address, '/', newClient)).status === 200, 5000),
    ).to.equal(true);
  });

  it('reloads on SIGHUP', async () => {
    const f = (fixture = await start(old, fresh, { watchFiles: false }));
    await swapToFresh(f);
    // Without file watching nothing changes until the signal.
    await new Promise((r) => setTimeout(r, 300));
    const before = await httpsRequest(f.http.address, '/', { caFile: f.old.ca.certFile, client: f.old.writer });
    expect(before.serverFingerprint).to.equal(fingerprintOf(f.old.server.certFile));
    const reloaded = new Promise<void>((resolve) => f.reloader.onReload(() => resolve()));
    process.kill(process.pid, 'SIGHUP');
    await reloaded;
    const after = await httpsRequest(f.http.address, '/', { caFile: f.fresh.ca.certFile, client: f.fresh.writer });
    expect(after.status).to.equal(200);
    expect(after.serverFingerprint).to.equal(fingerprintOf(f.fresh.server.certFile));
  });
});
