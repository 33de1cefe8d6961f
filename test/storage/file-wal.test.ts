import { appendFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { prefixEnd } from '../../src/kv/bytes.js';
import { EmbeddedKv } from '../../src/kv/embedded.js';
import type { KvEntry, KvStore } from '../../src/kv/kv.js';
import { Storage } from '../../src/storage/index.js';
import { NS_CHUNK, NS_WAL, decodeChunkHeader } from '../../src/storage/keys.js';
import { tempDir } from '../helpers/tmp.js';
import { ManualClock, pairs, series } from './helpers.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const T0 = 1_700_000_000_000;
const UP = [{ type: '=' as const, name: '__name__', value: 'up' }];
const BUFFERED = { intervalMs: 3_600_000 };

async function family(kv: KvStore, ns: number): Promise<KvEntry[]> {
  const start = Uint8Array.of(ns);
  return (await kv.scan({ start, end: prefixEnd(start), limit: 100_000 })).entries;
}

async function readUp(s: Storage): Promise<[number, number][]> {
  const got = await s.select({ matchers: UP, startMs: T0 - 1e9, endMs: T0 + 1e9 });
  return got.length === 0 ? [] : pairs(got[0]!);
}

describe('storage with the file write-ahead log (embedded KV)', function () {
  this.timeout(30_000);
  let dir = '';
  let kv: EmbeddedKv | null = null;
  const walDir = (): string => path.join(dir, 'wal');

  beforeEach(async () => {
    dir = await tempDir('file-wal');
    kv = await EmbeddedKv.open(path.join(dir, 'kv'));
  });
  afterEach(async () => {
    await kv?.close();
    kv = null;
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps records in segment files, not in the KV, and replays them after abandon()', async () => {
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv!, { clock, writerId: 5n, headFlush: BUFFERED, walDir: walDir() });
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1], [T0 + 1000, 2]])]));
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 2000, 3]]), series({ __name__: 'other' }, [[T0, 9]])]));
    expect(a.walCounters?.records).to.equal(2);
    a.abandon();
    expect(await family(kv!, NS_WAL)).to.have.length(0);
    expect(await family(kv!, NS_CHUNK)).to.have.length(0);
    expect(await readdir(walDir())).to.have.length(1);

    const b = await Storage.open(kv!, { clock, writerId: 5n, headFlush: BUFFERED, walDir: walDir() });
    expect(b.walReplay).to.deep.include({ segments: 1, records: 2, tornTail: null });
    expect(await readdir(walDir()), 'replayed segments are deleted once flushed').to.deep.equal([]);
    expect(await family(kv!, NS_CHUNK)).to.have.length(2);
    expect(await readUp(b)).to.deep.equal([[T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]]);
    await b.close();
  });

  it('replays appends that share two columns, each series its range of them', async () => {
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv!, { clock, writerId: 7n, headFlush: BUFFERED, walDir: walDir() });
    const timestamps = Float64Array.of(T0 + 5, T0, T0 + 1000, T0 + 2000, T0 + 9);
    const values = Float64Array.of(-1, 1, 2, 3, -1);
    await a.append(appendBatchOf([
      { labels: [{ name: '__name__', value: 'up' }], timestamps, values, start: 1, end: 3 },
      { labels: [{ name: '__name__', value: 'other' }], timestamps, values, start: 3, end: 4 },
      { labels: [{ name: '__name__', value: 'none' }], timestamps, values, start: 4, end: 4 },
    ]));
    a.abandon();
    const b = await Storage.open(kv!, { clock, writerId: 7n, headFlush: BUFFERED, walDir: walDir() });
    expect(await readUp(b)).to.deep.equal([[T0, 1], [T0 + 1000, 2]]);
    const other = await b.select({ matchers: [{ type: '=', name: '__name__', value: 'other' }], startMs: T0 - 1e9, endMs: T0 + 1e9 });
    expect(other.map(pairs)).to.deep.equal([[[T0 + 2000, 3]]]);
    await b.close();
  });

  it('a flush deletes the segments its chunks cover; close leaves no segment', async () => {
    const clock = new ManualClock(T0);
    const s = await Storage.open(kv!, { clock, writerId: 6n, headFlush: BUFFERED, walDir: walDir() });
    await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
    await s.flush();
    await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 1000, 2]])]));
    const files = await readdir(walDir());
    expect(files).to.have.length(1);
    await s.flush();
    expect(await readdir(walDir())).to.deep.equal([]);
    await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 2000, 3]])]));
    await s.close();
    expect(await readdir(walDir())).to.deep.equal([]);
    const reopened = await Storage.open(kv!, { clock, writerId: 6n, walDir: walDir() });
    expect(reopened.walReplay?.segments).to.equal(0);
    expect(await readUp(reopened)).to.deep.equal([[T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]]);
    await reopened.close();
  });

  it('between checkpoints a tick writes only closed chunks and keeps the segments; a checkpoint writes open chunks and drops older segments', async () => {
    const clock = new ManualClock(T0);
    const s = await Storage.open(kv!, { clock, writerId: 8n, headFlush: BUFFERED, walDir: walDir(), checkpointIntervalMs: 60_000 });
    const samples: [number, number][] = [];
    for (let i = 0; i < 121; i++) samples.push([T0 + i * 15_000, i]);
    // 120 samples fill the first chunk; the 121st cuts it and opens the next.
    for (let i = 0; i < samples.length; i += 40) await s.append(appendBatchOf([series({ __name__: 'up' }, samples.slice(i, i + 40))]));
    const segmentsBefore = await readdir(walDir());
    expect(segmentsBefore).to.have.length(1);

    clock.currentMs += 10_000;
    await s.tick();
    const afterTick = await family(kv!, NS_CHUNK);
    expect(afterTick, 'only the closed chunk is written').to.have.length(1);
    expect(decodeChunkHeader(afterTick[0]!.value)).to.deep.include({ closed: true, minTimeMs: T0, maxTimeMs: T0 + 119 * 15_000 });
    expect(await readdir(walDir()), 'no segment is deleted between checkpoints').to.deep.equal(segmentsBefore);

    clock.currentMs += 60_000;
    await s.tick();
    const afterCheckpoint = await family(kv!, NS_CHUNK);
    expect(afterCheckpoint, 'the open chunk is written too').to.have.length(2);
    expect(afterCheckpoint.map((e) => decodeChunkHeader(e.value).closed).sort()).to.deep.equal([false, true]);
    const segmentsAfter = await readdir(walDir());
    expect(segmentsAfter.filter((f) => segmentsBefore.includes(f)), 'segments before the checkpoint are deleted').to.deep.equal([]);

    await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 121 * 15_000, 121]])]));
    s.abandon();
    const reopened = await Storage.open(kv!, { clock, writerId: 8n, headFlush: BUFFERED, walDir: walDir() });
    expect(reopened.walReplay?.records, 'only the record after the checkpoint is replayed').to.equal(1);
    expect(await readUp(reopened)).to.deep.equal([...samples, [T0 + 121 * 15_000, 121]]);
    await reopened.close();
  });

  it('replays the KV records of this writer left by a version that kept them there', async () => {
    const clock = new ManualClock(T0);
    const old = await Storage.open(kv!, { clock, writerId: 7n, headFlush: BUFFERED });
    await old.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
    old.abandon();
    expect(await family(kv!, NS_WAL)).to.have.length(1);
    const s = await Storage.open(kv!, { clock, writerId: 7n, headFlush: BUFFERED, walDir: walDir() });
    expect(await family(kv!, NS_WAL)).to.have.length(0);
    expect(await readUp(s)).to.deep.equal([[T0, 1]]);
    await s.close();
  });

  it('keeps segments until they are replayed, when KV records are replayed (and flushed) too', async () => {
    const clock = new ManualClock(T0);
    const withFiles = await Storage.open(kv!, { clock, writerId: 9n, headFlush: BUFFERED, walDir: walDir() });
    await withFiles.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
    withFiles.abandon();
    const withKv = await Storage.open(kv!, { clock, writerId: 9n, headFlush: BUFFERED });
    await withKv.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 1000, 2]])]));
    withKv.abandon();
    expect(await family(kv!, NS_WAL)).to.have.length(1);
    expect(await readdir(walDir())).to.have.length(1);
    const s = await Storage.open(kv!, { clock, writerId: 9n, headFlush: BUFFERED, walDir: walDir() });
    expect(await readUp(s)).to.deep.equal([[T0, 1], [T0 + 1000, 2]]);
    expect(await family(kv!, NS_WAL)).to.have.length(0);
    expect(await readdir(walDir())).to.deep.equal([]);
    await s.close();
  });

  it('reports a torn end of the last segment and keeps the records before it', async () => {
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv!, { clock, writerId: 8n, headFlush: BUFFERED, walDir: walDir() });
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
    a.abandon();
    const [segment] = await readdir(walDir());
    await appendFile(path.join(walDir(), segment!), Uint8Array.of(40, 0, 0, 0, 1, 2)); // a header cut short
    const b = await Storage.open(kv!, { clock, writerId: 8n, headFlush: BUFFERED, walDir: walDir() });
    expect(b.walReplay?.records).to.equal(1);
    expect(b.walReplay?.tornTail).to.include({ reason: 'short record header' });
    expect(await readUp(b)).to.deep.equal([[T0, 1]]);
    await b.close();
  });
});
