import { mkdir, readFile, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { open as openLmdb } from 'lmdb';
import { toHex, utf8 } from '../../src/kv/bytes.js';
import { EmbeddedKv } from '../../src/kv/embedded.js';
import type { KvOp } from '../../src/kv/kv.js';
import { ValueLog } from '../../src/kv/value-log.js';
import { tempDir } from '../helpers/tmp.js';

function bytes(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7 + seed * 13) & 0xff);
}

function bulkPut(key: string, value: Uint8Array): KvOp {
  return { type: 'put', key: utf8(key), value, bulk: true };
}

async function segmentFiles(kvDir: string): Promise<string[]> {
  return (await readdir(path.join(kvDir, 'values'))).filter((f) => f.endsWith('.vlog')).sort();
}

async function valueLogBytes(kvDir: string): Promise<number> {
  let total = 0;
  for (const f of await segmentFiles(kvDir)) total += (await stat(path.join(kvDir, 'values', f))).size;
  return total;
}

describe('ValueLog', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await tempDir('value-log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads back what it appended, lists each record with its key, and starts a new segment when one is full', async () => {
    const log = ValueLog.open(dir, 4096);
    const records = Array.from({ length: 40 }, (_, i) => ({ key: utf8(`k${i}`), value: bytes(100 + i, i) }));
    const refs = records.flatMap((r) => log.append([r]));
    await log.sync();
    records.forEach((r, i) => expect(toHex(log.read(refs[i]!))).to.equal(toHex(r.value)));
    const segments = log.listSegments();
    expect(segments.length, 'segments of 4 KiB for about 6 KiB of records').to.be.at.least(2);
    expect(new Set(refs.map((r) => r.segment))).to.deep.equal(new Set(segments));
    const listed = segments.flatMap((s) => [...log.records(s)]);
    expect(listed.map((r) => new TextDecoder().decode(r.key))).to.deep.equal(records.map((_, i) => `k${i}`));
    expect(listed.map((r) => r.ref)).to.deep.equal(refs);
    log.close();
  });

  it('does not list a record cut short by a crash, and a second log on the directory writes its own segment', async () => {
    const first = ValueLog.open(dir);
    const [a, b] = first.append([
      { key: utf8('a'), value: bytes(200, 1) },
      { key: utf8('b'), value: bytes(300, 2) },
    ]);
    await first.sync();
    first.close();
    const file = path.join(dir, (await readdir(dir))[0]!);
    await truncate(file, b!.offset + 100);
    const second = ValueLog.open(dir);
    expect([...second.records(a!.segment)].map((r) => r.ref)).to.deep.equal([a]);
    const [c] = second.append([{ key: utf8('c'), value: bytes(50, 3) }]);
    expect(c!.segment).to.not.equal(a!.segment);
    expect(toHex(second.read(a!))).to.equal(toHex(bytes(200, 1)));
    second.remove(a!.segment);
    expect(second.listSegments()).to.deep.equal([c!.segment]);
    expect(() => second.remove(c!.segment)).to.throw(/active/);
    second.close();
  });
});

describe('EmbeddedKv bulk values', () => {
  let dir = '';
  let kvDir = '';
  beforeEach(async () => {
    dir = await tempDir('kv-embedded-values');
    kvDir = path.join(dir, 'kv');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps bulk values of 64 bytes or more in the value log and reads them back, also after reopening', async () => {
    let kv = await EmbeddedKv.open(kvDir);
    const big = bytes(500, 1);
    await kv.batch([bulkPut('a', big), bulkPut('b', bytes(20, 2)), { type: 'put', key: utf8('c'), value: bytes(600, 3) }]);
    // Only the 500 bytes of 'a' (plus its record header and key) are in the log.
    expect(await valueLogBytes(kvDir)).to.equal(4 + 6 + 1 + 500);
    for (let round = 0; round < 2; round++) {
      expect(toHex((await kv.get(utf8('a')))!)).to.equal(toHex(big));
      expect(toHex((await kv.get(utf8('b')))!)).to.equal(toHex(bytes(20, 2)));
      const many = await kv.getMany([utf8('c'), utf8('a'), utf8('z')]);
      expect(many.map((v) => (v === null ? null : v.length))).to.deep.equal([600, 500, null]);
      const page = await kv.scan({ start: utf8('a'), end: utf8('d') });
      expect(page.entries.map((e) => toHex(e.value))).to.deep.equal([toHex(big), toHex(bytes(20, 2)), toHex(bytes(600, 3))]);
      expect(await kv.compareAndSwap(utf8('a'), big, bytes(10, 4))).to.equal(true);
      expect(toHex((await kv.get(utf8('a')))!)).to.equal(toHex(bytes(10, 4)));
      await kv.batch([bulkPut('a', big)]);
      await kv.close();
      kv = await EmbeddedKv.open(kvDir);
    }
    await kv.close();
  });

  it('applies a batch that waits for the value log before a later batch on the same key', async () => {
    const kv = await EmbeddedKv.open(kvDir);
    const writes = [kv.batch([bulkPut('k', bytes(300, 1))]), kv.batch([{ type: 'put', key: utf8('k'), value: bytes(5, 2) }]), kv.batch([bulkPut('k', bytes(400, 3))]), kv.batch([{ type: 'del', key: utf8('j') }])];
    await Promise.all(writes);
    expect(toHex((await kv.get(utf8('k')))!)).to.equal(toHex(bytes(400, 3)));
    await kv.batch([bulkPut('k', bytes(100, 4)), { type: 'put', key: utf8('k'), value: bytes(3, 5) }]);
    expect(toHex((await kv.get(utf8('k')))!)).to.equal(toHex(bytes(3, 5)));
    await kv.close();
  });

  it('deletes segments once every value in them is overwritten or deleted, and keeps segments with a live value', async () => {
    const kv = await EmbeddedKv.open(kvDir, { valueSegmentBytes: 8 * 1024 });
    const keys = (from: number): string[] => Array.from({ length: 30 - from }, (_, i) => `key${from + i}`);
    // Batches of about 5 KiB, so each lands in a segment of its own. Round 0 writes key0..key29,
    // rounds 1 and 2 overwrite key1..key29: key0's segment stays live, as do round 2's.
    let written = 0;
    for (let round = 0; round < 3; round++) {
      const roundKeys = keys(round === 0 ? 0 : 1);
      for (let i = 0; i < roundKeys.length; i += 10) {
        await kv.batch(roundKeys.slice(i, i + 10).map((k) => bulkPut(k, bytes(500, round * 100 + Number(k.slice(3))))));
        written++;
      }
    }
    const summary = await kv.reclaimSpace();
    const after = await segmentFiles(kvDir);
    expect(written).to.equal(9);
    // Segments are also collected as new ones are started, so some may be gone before reclaimSpace.
    expect(after.length, `segments left: ${after.join(', ')}`).to.equal(4);
    expect(summary.valueSegmentsRemoved).to.be.at.most(5);
    expect(toHex((await kv.get(utf8('key0')))!)).to.equal(toHex(bytes(500, 0)));
    for (let i = 1; i < 30; i++) expect(toHex((await kv.get(utf8(`key${i}`)))!)).to.equal(toHex(bytes(500, 200 + i)));
    // With every key deleted, only the segment of a new value is left.
    await kv.batch(keys(0).map((k) => ({ type: 'del', key: utf8(k) }) as KvOp));
    await kv.batch([bulkPut('fresh', bytes(9000, 7))]);
    await kv.reclaimSpace();
    expect(await segmentFiles(kvDir)).to.have.length(1);
    expect(toHex((await kv.get(utf8('fresh')))!)).to.equal(toHex(bytes(9000, 7)));
    // reclaimSpace seals the segment being written, so once it is garbage it goes too.
    await kv.batch([{ type: 'del', key: utf8('fresh') }]);
    expect((await kv.reclaimSpace()).valueSegmentsRemoved).to.equal(1);
    expect(await segmentFiles(kvDir)).to.deep.equal([]);
    await kv.batch([bulkPut('again', bytes(100, 8))]);
    expect(toHex((await kv.get(utf8('again')))!)).to.equal(toHex(bytes(100, 8)));
    await kv.close();
  });

  it('rewrites a store of the earlier format, with values stored as they are, once when it opens', async () => {
    await mkdir(kvDir, { recursive: true });
    const old = openLmdb<Buffer, Uint8Array>({ path: kvDir, keyEncoding: 'binary', encoding: 'binary', compression: false, cache: false });
    await old.put(utf8('x'), Buffer.from(bytes(100, 1)));
    await old.put(utf8('y'), Buffer.from(''));
    await old.close();
    let kv = await EmbeddedKv.open(kvDir);
    expect(toHex((await kv.get(utf8('x')))!)).to.equal(toHex(bytes(100, 1)));
    expect((await kv.get(utf8('y')))!.length).to.equal(0);
    expect(await readFile(path.join(kvDir, 'format'), 'utf8')).to.equal('2\n');
    await kv.close();
    kv = await EmbeddedKv.open(kvDir);
    expect(toHex((await kv.get(utf8('x')))!)).to.equal(toHex(bytes(100, 1)));
    await kv.close();
  });

  it('finishes a format rewrite that crashed after its rename, and starts one again that crashed before it', async () => {
    let kv = await EmbeddedKv.open(kvDir);
    await kv.batch([{ type: 'put', key: utf8('x'), value: bytes(70, 1) }]);
    await kv.close();
    // Crashed after the rewritten file was renamed into place: only the marker is still pending.
    await rename(path.join(kvDir, 'format'), path.join(kvDir, 'format.pending'));
    kv = await EmbeddedKv.open(kvDir);
    expect(toHex((await kv.get(utf8('x')))!)).to.equal(toHex(bytes(70, 1)));
    await kv.close();

    // Crashed before the rename: the store is still of the earlier format, the copy half written.
    const oldDir = path.join(dir, 'old');
    await mkdir(oldDir);
    const old = openLmdb<Buffer, Uint8Array>({ path: oldDir, keyEncoding: 'binary', encoding: 'binary', compression: false, cache: false });
    await old.put(utf8('x'), Buffer.from(bytes(70, 2)));
    await old.close();
    await mkdir(path.join(oldDir, 'reclaim'));
    await writeFile(path.join(oldDir, 'reclaim', 'data.mdb'), 'half a copy');
    await writeFile(path.join(oldDir, 'format.pending'), '2\n');
    kv = await EmbeddedKv.open(oldDir);
    expect(toHex((await kv.get(utf8('x')))!)).to.equal(toHex(bytes(70, 2)));
    await kv.close();
  });

  it('refuses a store of a format it does not know', async () => {
    await mkdir(kvDir, { recursive: true });
    await writeFile(path.join(kvDir, 'format'), '3\n');
    try {
      await EmbeddedKv.open(kvDir);
      expect.fail('opened');
    } catch (err) {
      expect(String(err)).to.match(/format 3/);
    }
  });
});
