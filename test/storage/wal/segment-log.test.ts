import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { SegmentLog } from '../../../src/storage/wal/segment-log.js';
import { segmentName } from '../../../src/storage/wal/segment-format.js';
import { tempDir } from '../../helpers/tmp.js';

function record(n: number, sizeBytes = 32): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  new DataView(out.buffer).setUint32(0, n, true);
  for (let i = 4; i < sizeBytes; i++) out[i] = (n * 31 + i) & 0xff;
  return out;
}

function numberOf(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
}

async function replayed(dir: string): Promise<{ numbers: number[]; log: SegmentLog; torn: boolean }> {
  const log = await SegmentLog.open(dir);
  const numbers: number[] = [];
  const report = await log.replay((p) => numbers.push(numberOf(p)));
  expect(report.records).to.equal(numbers.length);
  return { numbers, log, torn: report.tornTail !== null };
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('write-ahead segment log', function () {
  this.timeout(30_000);
  let dir = '';
  beforeEach(async () => {
    dir = await tempDir('segment-log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gathers concurrent appends into fewer fdatasyncs and resolves every one', async () => {
    const log = await SegmentLog.open(dir);
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(record(i))));
    const counters = log.counters;
    expect(counters.records).to.equal(200);
    expect(counters.syncs).to.be.greaterThan(0).and.lessThan(200);
    await log.close();
    const { numbers } = await replayed(dir);
    expect(numbers).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
  });

  it('cuts a segment at a flush and deletes the segments before it once the flush has committed', async () => {
    const log = await SegmentLog.open(dir);
    await log.append(record(1));
    await log.append(record(2));
    const cut = log.flushStarting();
    const pending = log.append(record(3));
    expect(log.flushStarting(), 'a cut with nothing written since is the same position').to.equal(cut);
    await pending;
    expect(await segmentFiles(dir)).to.deep.equal([segmentName(1), segmentName(cut)]);
    await log.flushCommitted(cut);
    expect(await segmentFiles(dir)).to.deep.equal([segmentName(cut)]);
    await log.close();
    const { numbers } = await replayed(dir);
    expect(numbers).to.deep.equal([3]);
  });

  it('replays segments in order and continues numbering after them', async () => {
    let log = await SegmentLog.open(dir);
    for (let i = 0; i < 3; i++) {
      await log.append(record(i));
      log.flushStarting();
    }
    await log.close();
    log = await SegmentLog.open(dir);
    const numbers: number[] = [];
    const report = await log.replay((p) => numbers.push(numberOf(p)));
    expect(numbers).to.deep.equal([0, 1, 2]);
    expect(report.segments).to.equal(3);
    const cut = log.flushStarting();
    expect(cut).to.equal(4);
    await log.append(record(9));
    await log.flushCommitted(cut);
    expect(await segmentFiles(dir)).to.deep.equal([segmentName(4)]);
    await log.close();
  });

  it('deletes no segment found at open before replay has read it', async () => {
    let log = await SegmentLog.open(dir);
    await log.append(record(1));
    await log.close();
    log = await SegmentLog.open(dir);
    await log.flushCommitted(log.flushStarting());
    expect(await segmentFiles(dir)).to.deep.equal([segmentName(1)]);
    const numbers: number[] = [];
    await log.replay((p) => numbers.push(numberOf(p)));
    expect(numbers).to.deep.equal([1]);
    await log.flushCommitted(log.flushStarting());
    expect(await segmentFiles(dir)).to.deep.equal([]);
    await log.close();
  });

  it('a torn end of the last segment ends replay with a prefix of the records, whatever the cut', async () => {
    const log = await SegmentLog.open(dir);
    const sizes = [40, 3000, 17, 600, 90, 5000, 8, 250];
    for (let i = 0; i < sizes.length; i++) await log.append(record(i, sizes[i]));
    await log.close();
    const file = path.join(dir, segmentName(1));
    const whole = await readFile(file);
    for (let trial = 0; trial < 60; trial++) {
      const at = trial === 0 ? whole.length - 1 : Math.floor(Math.random() * whole.length);
      await writeFile(file, whole.subarray(0, at));
      const { numbers, log: reopened } = await replayed(dir);
      expect(numbers).to.deep.equal(Array.from({ length: numbers.length }, (_, i) => i));
      await reopened.close();
    }
    // garbage after intact records, as a crash can leave (zeros or a half-written header)
    await writeFile(file, whole);
    await appendFile(file, Buffer.alloc(4096));
    const zeros = await replayed(dir);
    expect(zeros.numbers).to.have.length(sizes.length);
    expect(zeros.torn).to.equal(true);
    await zeros.log.close();
  });

  it('a damaged record in an older segment is an error naming the file and offset', async () => {
    const log = await SegmentLog.open(dir);
    await log.append(record(1, 100));
    await log.append(record(2, 100));
    log.flushStarting();
    await log.append(record(3, 100));
    await log.close();
    const older = path.join(dir, segmentName(1));
    const bytes = await readFile(older);
    bytes[108 + 8 + 50] = bytes[108 + 8 + 50]! ^ 0xff; // a payload byte of the second record
    await writeFile(older, bytes);
    const reopened = await SegmentLog.open(dir);
    let error: unknown = null;
    await reopened.replay(() => undefined).catch((err: unknown) => (error = err));
    expect(String(error)).to.contain(older).and.contain('offset 108').and.contain('checksum');
    await reopened.close();
  });

  it('after a failed write rejects appends until a flush past the failed segment has committed', async () => {
    const log = await SegmentLog.open(dir);
    await log.append(record(1));
    await rm(dir, { recursive: true, force: true });
    const cut = log.flushStarting();
    const failed = await log.append(record(2)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failed, 'the new segment cannot be created').to.not.equal(null);
    const refused = await log.append(record(3)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(String(refused)).to.contain('unavailable');
    await mkdir(dir, { recursive: true });
    await log.flushCommitted(log.flushStarting());
    expect(cut).to.be.lessThan(log.flushStarting());
    await log.append(record(4));
    await log.close();
    const { numbers } = await replayed(dir);
    expect(numbers).to.deep.equal([4]);
  });

  it('an empty segment (created, never written) replays as nothing', async () => {
    await writeFile(path.join(dir, segmentName(7)), new Uint8Array(0));
    const { numbers, torn, log } = await replayed(dir);
    expect(numbers).to.deep.equal([]);
    expect(torn).to.equal(false);
    expect(log.flushStarting()).to.equal(8);
    await log.close();
  });
});
