import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { FlareDbClient } from '../src/client.js';
import { startDevServer, type DevServer } from '../src/dev-server.js';
import { parseDevServerArgs } from '../src/dev-server-cli.js';
import { bytes, hex, key16, rejectionOf, withTempDir } from './helpers.js';

describe('flaredb dev server over gRPC', () => {
  let server: DevServer;
  let client: FlareDbClient;

  before(async () => {
    server = await startDevServer({
      namespaces: { fast: 'eventual', safe: 'strong', '': 'strong' },
      defaultMode: 'eventual',
      sync: false,
    });
    client = new FlareDbClient({ endpoints: [server.address], timeoutMs: 15_000 });
  });

  after(async () => {
    await client.close();
    await server.close();
  });

  describe('KvRaw on an eventual namespace', () => {
    const o = { namespace: 'fast' };

    it('puts, gets and deletes, reporting whether the key existed', async () => {
      expect(await client.rawGet(bytes(1, 1), o)).to.equal(null);
      await client.rawPut(bytes(1, 1), bytes(0, 255, 7), o);
      expect(hex(await client.rawGet(bytes(1, 1), o))).to.equal('00ff07');
      await client.rawPut(bytes(1, 1), bytes(8), o);
      expect(hex(await client.rawGet(bytes(1, 1), o))).to.equal('08');
      expect(await client.rawDelete(bytes(1, 1), o)).to.equal(true);
      expect(await client.rawDelete(bytes(1, 1), o)).to.equal(false);
      expect(await client.rawGet(bytes(1, 1), o)).to.equal(null);
    });

    it('keeps an empty value distinct from an absent key', async () => {
      await client.rawPut(bytes(1, 2), Buffer.alloc(0), o);
      const got = await client.rawGet(bytes(1, 2), o);
      expect(got).to.be.instanceOf(Uint8Array);
      expect(got!.length).to.equal(0);
    });

    it('scans [start, end) in key order, and to the namespace end when end is empty', async () => {
      for (const k of [3, 1, 4, 2, 5]) await client.rawPut(bytes(2, k), bytes(k * 10), o);
      const page = await client.rawScan({ start: bytes(2, 2), end: bytes(2, 5) }, o);
      expect(page.entries.map((e) => [hex(e.key), hex(e.value)])).to.deep.equal([
        ['0202', '14'],
        ['0203', '1e'],
        ['0204', '28'],
      ]);
      expect(page.nextKey).to.equal(undefined);
      const open = await client.rawScan({ start: bytes(2, 4) }, o);
      expect(open.entries.map((e) => hex(e.key))).to.deep.equal(['0204', '0205']);
      expect((await client.rawScan({ start: bytes(2, 4), end: bytes(2, 2) }, o)).entries).to.deep.equal([]);
      expect((await client.rawScan({ start: bytes(2, 3), end: bytes(2, 3) }, o)).entries).to.deep.equal([]);
    });

    it('keeps namespaces apart', async () => {
      await client.rawPut(bytes(3), bytes(1), o);
      await client.rawPut(bytes(3), bytes(2), { namespace: 'other' });
      expect(hex(await client.rawGet(bytes(3), o))).to.equal('01');
      expect(hex(await client.rawGet(bytes(3), { namespace: 'other' }))).to.equal('02');
      const page = await client.rawScan({ start: bytes(3) }, { namespace: 'other' });
      expect(page.entries.map((e) => hex(e.key))).to.deep.equal(['03']);
    });
  });

  describe('pagination', () => {
    const o = { namespace: 'pages' };
    const count = 520;

    before(async () => {
      const puts: Promise<void>[] = [];
      for (let i = 0; i < count; i++) puts.push(client.rawPut(key16(i), key16(i * 3), o));
      await Promise.all(puts);
    });

    it('answers limit 0 with 100 entries, has_more and the next key', async () => {
      const page = await client.rawScan({ start: key16(0), limit: 0 }, o);
      expect(page.entries).to.have.length(100);
      expect(hex(page.nextKey)).to.equal(hex(key16(100)));
    });

    it('walks every page through next_key, with no entry lost or repeated', async () => {
      const seen: number[] = [];
      let pages = 0;
      let start: Buffer | undefined = key16(0);
      while (start !== undefined && pages < 100) {
        const page = await client.rawScan({ start, end: key16(500), limit: 37 }, o);
        pages++;
        for (const e of page.entries) {
          expect(e.value.readUInt16BE()).to.equal((e.key.readUInt16BE() * 3) & 0xffff);
          seen.push(e.key.readUInt16BE());
        }
        start = page.nextKey;
      }
      expect(pages).to.equal(Math.ceil(500 / 37));
      expect(seen).to.deep.equal(Array.from({ length: 500 }, (_, i) => i));
    });

    it('ends a page early when its values pass 2 MiB, still reaching every entry', async () => {
      const big = { namespace: 'big' };
      const value = Buffer.alloc(300 * 1024, 7);
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.rawPut(bytes(i), value, big)));
      const first = await client.rawScan({ start: Buffer.alloc(0), limit: 100 }, big);
      expect(first.entries).to.have.length(6);
      expect(hex(first.nextKey)).to.equal('06');
      let count = 0;
      for await (const e of client.rawScanAll({ start: Buffer.alloc(0), limit: 100 }, big)) {
        expect(e.value.equals(value)).to.equal(true);
        count++;
      }
      expect(count).to.equal(10);
    });

    it('iterates a range across pages with the async iterator', async () => {
      const keys: number[] = [];
      for await (const e of client.rawScanAll({ start: key16(10), end: key16(400), limit: 64 }, o)) keys.push(e.key.readUInt16BE());
      expect(keys).to.deep.equal(Array.from({ length: 390 }, (_, i) => i + 10));
      const all: number[] = [];
      for await (const e of client.rawScanAll({ start: Buffer.alloc(0) }, o)) all.push(e.key.readUInt16BE());
      expect(all).to.have.length(count);
    });
  });

  describe('KvCas on a strong namespace', () => {
    const o = { namespace: 'safe' };

    it('creates only if absent with expected version 0, then moves the version by one per write', async () => {
      const created = await client.compareAndSwap(bytes(9), bytes(1), 0, o);
      expect(created).to.deep.equal({ success: true, currentVersion: 0, newVersion: 1 });
      const again = await client.compareAndSwap(bytes(9), bytes(2), 0, o);
      expect(again.success).to.equal(false);
      expect(again.currentVersion).to.equal(1);
      const second = await client.compareAndSwap(bytes(9), bytes(3), 1, o);
      expect(second).to.deep.equal({ success: true, currentVersion: 1, newVersion: 2 });
      const stale = await client.compareAndSwap(bytes(9), bytes(4), 1, o);
      expect(stale).to.include({ success: false, currentVersion: 2 });
      const got = await client.get(bytes(9), o);
      expect(hex(got!.value)).to.equal('03');
      expect(got!.version).to.equal(2);
      expect(await client.get(bytes(9, 9), o)).to.equal(null);
    });

    it('fails a CAS with a version on an absent key', async () => {
      const res = await client.compareAndSwap(bytes(9, 1), bytes(1), 3, o);
      expect(res).to.include({ success: false, currentVersion: 0 });
      expect(await client.get(bytes(9, 1), o)).to.equal(null);
    });

    it('deletes unconditionally or only at the expected version', async () => {
      await client.compareAndSwap(bytes(8), bytes(1), 0, o);
      await client.compareAndSwap(bytes(8), bytes(2), 1, o);
      expect(await client.delete(bytes(8), 1, o)).to.deep.equal({ success: false, existed: true, currentVersion: 2 });
      expect(await client.delete(bytes(8), 2, o)).to.deep.equal({ success: true, existed: true, currentVersion: 2 });
      expect(await client.delete(bytes(8), 0, o)).to.deep.equal({ success: true, existed: false, currentVersion: 0 });
      expect(await client.delete(bytes(8), 5, o)).to.include({ success: false, existed: false });
      const recreated = await client.compareAndSwap(bytes(8), bytes(3), 0, o);
      expect(recreated.newVersion).to.equal(1);
    });

    it('scans with versions, paging like the raw scan', async () => {
      await Promise.all(Array.from({ length: 150 }, (_, i) => client.compareAndSwap(bytes(7, i), bytes(i), 0, o)));
      await client.compareAndSwap(bytes(7, 5), bytes(55), 1, o);
      const first = await client.scan({ start: bytes(7), end: bytes(8) }, o);
      expect(first.entries).to.have.length(100);
      expect(hex(first.nextKey)).to.equal('0764');
      expect(first.entries[5]).to.deep.include({ version: 2 });
      expect(hex(first.entries[5]!.value)).to.equal('37');
      expect(first.entries[4]!.version).to.equal(1);
      const all: number[] = [];
      for await (const e of client.scanAll({ start: bytes(7), end: bytes(8), limit: 33 }, o)) all.push(e.key[1]!);
      expect(all).to.deep.equal(Array.from({ length: 150 }, (_, i) => i));
    });
  });

  describe('namespace modes', () => {
    it('treats the empty namespace as `default`', async () => {
      await client.compareAndSwap(bytes(6), bytes(1), 0, { namespace: '' });
      expect(hex((await client.get(bytes(6), { namespace: 'default' }))!.value)).to.equal('01');
    });

    it('fails raw calls on a strong namespace with FAILED_PRECONDITION', async () => {
      const o = { namespace: 'safe' };
      for (const call of [
        client.rawPut(bytes(1), bytes(1), o),
        client.rawGet(bytes(1), o),
        client.rawDelete(bytes(1), o),
        client.rawScan({ start: bytes(1) }, o),
        client.rawGet(bytes(1), { namespace: '' }),
      ]) {
        const err = await rejectionOf(call);
        expect(err.code).to.equal(status.FAILED_PRECONDITION);
        expect(err.retryable).to.equal(false);
      }
    });

    it('fails CAS calls on an eventual namespace with FAILED_PRECONDITION', async () => {
      for (const ns of ['fast', 'created-on-first-use']) {
        const o = { namespace: ns };
        for (const call of [
          client.compareAndSwap(bytes(1), bytes(1), 0, o),
          client.get(bytes(1), o),
          client.delete(bytes(1), 0, o),
          client.scan({ start: bytes(1) }, o),
        ]) {
          expect((await rejectionOf(call)).code).to.equal(status.FAILED_PRECONDITION);
        }
      }
    });

    it('rejects an empty key with INVALID_ARGUMENT', async () => {
      expect((await rejectionOf(client.rawPut(Buffer.alloc(0), bytes(1), { namespace: 'fast' }))).code).to.equal(
        status.INVALID_ARGUMENT,
      );
    });
  });

  it('keeps its data in the data directory across restarts', async () => {
    await withTempDir(async (dir) => {
      const first = await startDevServer({ dataDir: dir, namespaces: { r: 'eventual' } });
      const c1 = new FlareDbClient({ endpoints: [first.address], namespace: 'r' });
      await c1.rawPut(bytes(1), bytes(42));
      await c1.close();
      await first.close();
      const second = await startDevServer({ dataDir: dir, namespaces: { r: 'eventual' } });
      const c2 = new FlareDbClient({ endpoints: [second.address], namespace: 'r' });
      try {
        expect(hex(await c2.rawGet(bytes(1)))).to.equal('2a');
      } finally {
        await c2.close();
        await second.close();
      }
    });
  });
});

describe('flaredb-dev command line', () => {
  it('parses address, data dir, repeated namespaces and TLS flags', () => {
    const options = parseDevServerArgs([
      '--addr', '127.0.0.1:9999', '--data-dir', 'd', '--namespace', 'a=strong', '--namespace', 'b=eventual',
      '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem', '--require-client-cert',
    ]);
    expect(options).to.deep.equal({
      address: '127.0.0.1:9999',
      dataDir: 'd',
      namespaces: { a: 'strong', b: 'eventual' },
      defaultMode: 'strong',
      sync: true,
      tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem', requireClientCert: true },
    });
  });

  it('rejects a bad mode, a lone --tls-cert and unknown flags', () => {
    expect(() => parseDevServerArgs(['--namespace', 'a=fast'])).to.throw(/bad --namespace/);
    expect(() => parseDevServerArgs(['--tls-cert', 'c.pem'])).to.throw(/go together/);
    expect(() => parseDevServerArgs(['--require-client-cert'])).to.throw(/need --tls-cert/);
    expect(() => parseDevServerArgs(['--bogus'])).to.throw();
  });
});
