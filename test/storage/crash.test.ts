import { spawn } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { EmbeddedKv } from '../../src/kv/embedded.js';
import { prefixEnd } from '../../src/kv/bytes.js';
import { Storage } from '../../src/storage/index.js';
import { walPrefix } from '../../src/storage/keys.js';
import { tempDir } from '../helpers/tmp.js';
import { CRASH_SERIES, CRASH_T0, CRASH_WRITER_ID, batchTimestamps, valueAt } from './crash-data.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, 'crash-child.ts');

/** Runs the child until a random moment after its first acknowledgement, SIGKILLs it, returns acked batches. */
async function runAndKill(dir: string, policy: string, leaseTtlMs?: number): Promise<number[]> {
  const args = ['--import', 'tsx', child, dir, policy, ...(leaseTtlMs === undefined ? [] : [String(leaseTtlMs)])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: number[] = [];
  let stderr = '';
  let buffered = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const firstAck = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no acknowledgement within 30 s: ${stderr}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked.push(Number(m[1]));
      }
      if (acked.length > 0) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`child exited early: ${stderr}`)));
  });
  try {
    await firstAck;
    await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 800)));
  } finally {
    proc.kill('SIGKILL');
  }
  await exited;
  // a line the child wrote just before the kill may still sit in the pipe; it counts as acknowledged
  return acked;
}

/** Every sample of every acknowledged batch must read back, and nothing else may appear. */
async function checkRecovered(storage: Storage, acked: readonly number[]): Promise<void> {
  const got = await storage.select({
    matchers: [{ type: '=', name: '__name__', value: 'crash_test' }],
    startMs: CRASH_T0,
    endMs: CRASH_T0 + 1e10,
  });
  expect(got).to.have.length(CRASH_SERIES);
  for (let s = 0; s < CRASH_SERIES; s++) {
    const series = got.find((g) => g.labels[1]!.value === String(s));
    expect(series, `series ${s}`).to.not.equal(undefined);
    const byT = new Map<number, number>();
    series!.timestamps.forEach((t, i) => byT.set(t, series!.values[i]!));
    for (const n of acked) {
      for (const t of batchTimestamps(n)) expect(byT.get(t), `series ${s} batch ${n} t ${t}`).to.equal(valueAt(s, t));
    }
    for (const [t, v] of byT) expect(v).to.equal(valueAt(s, t));
    for (let i = 1; i < series!.timestamps.length; i++) {
      expect(series!.timestamps[i]!).to.be.greaterThan(series!.timestamps[i - 1]!);
    }
  }
}

const cases = [
  { policy: 'write-through', adopt: false },
  { policy: 'buffered', adopt: false },
  { policy: 'buffered', adopt: true },
  { policy: 'buffered-file-wal', adopt: false },
];

for (const { policy, adopt } of cases) {
  const who = adopt ? 'another writer adopts its records once its lease expires' : 'the same writer reopens';
  describe(`storage crash recovery (${policy}, child process on the embedded KV)`, function () {
    this.timeout(60_000);
    let dir = '';
    afterEach(async () => {
      if (dir !== '') await rm(dir, { recursive: true, force: true });
    });

    it(`reads every acknowledged batch after SIGKILL: ${who}`, async () => {
      dir = await tempDir(`crash-${policy}`);
      const leaseTtlMs = adopt ? 500 : undefined;
      const acked = await runAndKill(dir, policy, leaseTtlMs);
      expect(acked.length).to.be.greaterThan(0);
      if (leaseTtlMs !== undefined) await new Promise((r) => setTimeout(r, leaseTtlMs + 100));
      const fileWal = policy === 'buffered-file-wal';
      const kv = await EmbeddedKv.open(fileWal ? path.join(dir, 'kv') : dir);
      try {
        const storage = await Storage.open(kv, {
          writerId: adopt ? CRASH_WRITER_ID + 1n : CRASH_WRITER_ID,
          ...(fileWal ? { walDir: path.join(dir, 'wal') } : {}),
        });
        await checkRecovered(storage, acked);
        if (fileWal) {
          expect(storage.walReplay?.segments, 'the killed writer left segments').to.be.greaterThan(0);
          expect(await readdir(path.join(dir, 'wal')), 'replayed segments are deleted').to.deep.equal([]);
        }
        if (adopt) {
          const wal = await kv.scan({ start: walPrefix(), end: prefixEnd(walPrefix()), limit: 10 });
          expect(wal.entries, 'adopted records are deleted').to.have.length(0);
        }
        await storage.close();
      } finally {
        await kv.close();
      }
    });
  });
}
