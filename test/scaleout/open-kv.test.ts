import { expect } from 'chai';
import { startDevServer, type DevServer } from '@metricstor/flaredb-client';
import { isMetricstorError } from '../../src/errors.js';
import { FlareDbKv, openKv } from '../../src/kv/index.js';
import { requireOpenssl, sharedTestPki } from '../helpers/certs.js';

describe('openKv flaredb backend', () => {
  let strong: DevServer;
  let split: DevServer;
  before(async () => {
    strong = await startDevServer({ defaultMode: 'strong', sync: false });
    split = await startDevServer({ defaultMode: 'eventual', namespaces: { leases: 'strong' }, sync: false });
  });
  after(async () => {
    await strong?.close();
    await split?.close();
  });

  const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

  it('opens a strong store in the `metricstor` namespace by default', async () => {
    const kv = await openKv({ backend: 'flaredb', dataDir: 'unused', flaredb: { endpoints: [strong.address] } });
    try {
      expect(kv).to.be.instanceOf(FlareDbKv);
      expect((kv as FlareDbKv).consistency).to.equal('strong');
      await kv.batch([{ type: 'put', key: b(1), value: b(2) }]);
      const named = await openKv({ backend: 'flaredb', dataDir: 'unused', flaredb: { endpoints: [strong.address], namespace: 'metricstor' } });
      const other = await openKv({ backend: 'flaredb', dataDir: 'unused', flaredb: { endpoints: [strong.address], namespace: 'elsewhere' } });
      try {
        expect(Array.from((await named.get(b(1)))!)).to.deep.equal([2]);
        expect(await other.get(b(1))).to.equal(null);
      } finally {
        await named.close();
        await other.close();
      }
    } finally {
      await kv.close();
    }
  });

  it('keeps keys under the strong prefixes in the lease namespace with eventual consistency', async () => {
    const options = {
      backend: 'flaredb' as const,
      dataDir: 'unused',
      flaredb: { endpoints: [split.address], consistency: 'eventual' as const, leaseNamespace: 'leases', strongPrefixes: [b(0x4c)] },
    };
    const [x, y] = [await openKv(options), await openKv(options)];
    const probe = await openKv({ backend: 'flaredb', dataDir: 'unused', flaredb: { endpoints: [split.address], namespace: 'leases' } });
    try {
      const wins = await Promise.all([x.compareAndSwap(b(0x4c, 1), null, b(1)), y.compareAndSwap(b(0x4c, 1), null, b(2))]);
      expect(wins.filter((w) => w)).to.have.length(1);
      expect((await probe.get(b(0x4c, 1))) === null).to.equal(false);
    } finally {
      for (const kv of [x, y, probe]) await kv.close();
    }
  });

  it('refuses settings it cannot use with bad_data', async () => {
    const refusals = [
      { endpoints: [] },
      { endpoints: [strong.address], consistency: 'eventual' as const },
      { endpoints: [strong.address], tls: { certFile: 'c.pem', keyFile: 'k.pem' } },
    ];
    for (const flaredb of refusals) {
      const err: unknown = await openKv({ backend: 'flaredb', dataDir: 'unused', flaredb }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMetricstorError(err) && err.type === 'bad_data', JSON.stringify(flaredb)).to.equal(true);
    }
    const missing: unknown = await openKv({ backend: 'flaredb', dataDir: 'unused' }).then(() => null, (e: unknown) => e);
    expect(isMetricstorError(missing) && missing.type === 'bad_data').to.equal(true);
  });

  it('speaks mTLS to FlareDB with the CA, certificate and key of the config, and fails without a client certificate', async function () {
    requireOpenssl(this);
    this.timeout(20_000);
    const pki = await sharedTestPki();
    const secure = await startDevServer({
      defaultMode: 'strong',
      sync: false,
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile, requireClientCert: true },
    });
    const withCert = await openKv({
      backend: 'flaredb',
      dataDir: 'unused',
      flaredb: { endpoints: [secure.address], tls: { caFile: pki.ca.certFile, certFile: pki.writer.certFile, keyFile: pki.writer.keyFile }, serverName: 'localhost' },
    });
    const withoutCert = await openKv({
      backend: 'flaredb',
      dataDir: 'unused',
      flaredb: { endpoints: [secure.address], tls: { caFile: pki.ca.certFile }, serverName: 'localhost', requestTimeoutMs: 2000 },
    });
    const wrongName = await openKv({
      backend: 'flaredb',
      dataDir: 'unused',
      flaredb: {
        endpoints: [secure.address],
        tls: { caFile: pki.ca.certFile, certFile: pki.writer.certFile, keyFile: pki.writer.keyFile },
        serverName: 'not-the-server.example',
        requestTimeoutMs: 2000,
      },
    });
    try {
      await withCert.batch([{ type: 'put', key: b(7), value: b(8) }]);
      expect(Array.from((await withCert.get(b(7)))!)).to.deep.equal([8]);
      const err: unknown = await withoutCert.get(b(7)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMetricstorError(err), String(err)).to.equal(true);
      const misnamed: unknown = await wrongName.get(b(7)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMetricstorError(misnamed), String(misnamed)).to.equal(true);
    } finally {
      await wrongName.close();
      await withCert.close();
      await withoutCert.close();
      await secure.close();
    }
  });
});
