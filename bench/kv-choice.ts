/**
 * Measures the two embedded KV candidates (lmdb, classic-level) on Metricstor's own access
 * patterns, to choose the default backend (docs/adr/0001-embedded-kv.md).
 *
 *   npx tsx bench/kv-choice.ts            all candidates, concurrency 4 and 16, markdown table
 *   npx tsx bench/kv-choice.ts --quick    a tenth of the data, for a smoke run
 *
 * Each (candidate, concurrency) runs in its own child process so that peak RSS is its own; every
 * row is the median of three such runs. Rates per CPU-second (all threads of the child) are the
 * figures to compare on a shared machine, where wall-clock rates swing with other load.
 *
 * Write pattern: chunk flushes as atomic batches of 50–2,000 puts (log-uniform sizes), keys
 * 'C' + series id + chunk start + writer id (8 bytes each, big-endian), values of 150–300
 * high-entropy bytes like XOR chunks, plus the S/I/V/N index keys of series seen for the first
 * time. Every batch is awaited (durable as the candidate promises) before its worker sends the
 * next one; `concurrency` workers keep that many batches in flight, as remote_write does.
 * Read pattern, on the data just written: per-series chunk scans of 1 h and 24 h, postings
 * prefix scans, single gets and getMany of 100 keys.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb } from 'lmdb';
import { concat, encodeUint64BE, prefixEnd, utf8 } from '../src/kv/bytes.js';
import { EmbeddedKv } from '../src/kv/embedded.js';

interface Op {
  readonly type: 'put' | 'del';
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
}

/** The few calls the bench needs, shaped like our KvStore. */
interface Candidate {
  batch(ops: readonly Op[]): Promise<void>;
  scan(start: Uint8Array, end: Uint8Array, limit: number): Promise<number>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[]): Promise<number>;
  close(): Promise<void>;
}

interface CandidateSpec {
  readonly name: string;
  readonly durability: string;
  open(dir: string): Promise<Candidate>;
}

const CANDIDATES: readonly CandidateSpec[] = [
  {
    name: 'lmdb',
    durability: 'overlappingSync (default): resolves at commit; fsync follows off the write lock',
    open: async (dir) => lmdbCandidate(dir, true),
  },
  {
    name: 'lmdb-syncEach',
    durability: 'overlappingSync off: fsync before each commit resolves',
    open: async (dir) => lmdbCandidate(dir, false),
  },
  {
    name: 'lmdb-flushed',
    durability: 'overlappingSync, and each batch also awaits the flush that covers its commit',
    open: async (dir) => lmdbCandidate(dir, true, true),
  },
  {
    name: 'EmbeddedKv',
    durability: 'our src/kv/embedded.ts in its default mode (= lmdb-flushed plus copies and checks)',
    open: async (dir) => embeddedCandidate(await EmbeddedKv.open(dir)),
  },
  {
    name: 'level',
    durability: 'batch sync=false: log written to the OS, no fsync',
    open: async (dir) => levelCandidate(dir, false),
  },
  {
    name: 'level-sync',
    durability: 'batch sync=true: log fsynced before each batch resolves',
    open: async (dir) => levelCandidate(dir, true),
  },
];

function lmdbCandidate(dir: string, overlappingSync: boolean, awaitFlush = false): Candidate {
  const db = openLmdb<Buffer, Buffer>({ path: dir, keyEncoding: 'binary', encoding: 'binary', overlappingSync });
  return {
    async batch(ops) {
      await db.batch(() => {
        for (const op of ops) {
          if (op.type === 'put') void db.put(Buffer.from(op.key), Buffer.from(op.value!));
          else void db.remove(Buffer.from(op.key));
        }
      });
      if (awaitFlush) await db.flushed;
    },
    async scan(start, end, limit) {
      let rows = 0;
      const range = end.length === 0 ? { start: Buffer.from(start), limit } : { start: Buffer.from(start), end: Buffer.from(end), limit };
      for (const entry of db.getRange(range)) if (entry.value !== undefined) rows++;
      return rows;
    },
    async get(key) {
      return db.get(Buffer.from(key));
    },
    async getMany(keys) {
      let found = 0;
      for (const k of keys) if (db.get(Buffer.from(k)) !== undefined) found++;
      return found;
    },
    close: () => db.close(),
  };
}

function embeddedCandidate(kv: EmbeddedKv): Candidate {
  return {
    batch: (ops) =>
      kv.batch(ops.map((op) => (op.type === 'put' ? { type: 'put', key: op.key, value: op.value! } : { type: 'del', key: op.key }))),
    async scan(start, end, limit) {
      return (await kv.scan({ start, end, limit })).entries.length;
    },
    async get(key) {
      return (await kv.get(key)) ?? undefined;
    },
    async getMany(keys) {
      return (await kv.getMany(keys)).filter((v) => v !== null).length;
    },
    close: () => kv.close(),
  };
}

async function levelCandidate(dir: string, sync: boolean): Promise<Candidate> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return {
    async batch(ops) {
      await db.batch(
        ops.map((op) => (op.type === 'put' ? { type: 'put', key: op.key, value: op.value! } : { type: 'del', key: op.key })),
        { sync },
      );
    },
    async scan(start, end, limit) {
      const it = db.iterator(end.length === 0 ? { gte: start, limit } : { gte: start, lt: end, limit });
      const entries = await it.all();
      return entries.length;
    },
    get: (key) => db.get(key),
    async getMany(keys) {
      return (await db.getMany(keys)).filter((v) => v !== undefined).length;
    },
    close: () => db.close(),
  };
}

/** xorshift32, seeded, so every candidate gets the same data in the same order. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const HOUR_MS = 3_600_000;
const CHUNK_SPAN_MS = 30 * 60_000; // 120 samples at a 15 s interval
const CHUNKS_PER_SERIES = 48; // 24 h
const T0_MS = Date.UTC(2026, 0, 1);
const DAY = encodeUint32(Math.floor(T0_MS / 86_400_000));
const WRITER = encodeUint64BE(0x5157_0001n);

function encodeUint32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

interface Workload {
  readonly batches: Op[][];
  readonly seriesIds: Uint8Array[];
  readonly metricCount: number;
  readonly puts: number;
  readonly valueBytes: number;
}

function chunkKey(sid: Uint8Array, startMs: number): Uint8Array {
  return concat(utf8('C'), sid, encodeUint64BE(BigInt(startMs)), WRITER);
}

function postingPrefix(name: string, value: string): Uint8Array {
  return concat(utf8('I'), DAY, utf8(name), Uint8Array.of(0), utf8(value), Uint8Array.of(0));
}

function buildWorkload(seriesCount: number): Workload {
  const random = prng(0x6d657472);
  const metricCount = Math.max(1, Math.floor(seriesCount / 40));
  const seriesIds = Array.from({ length: seriesCount }, () => {
    const sid = new Uint8Array(8);
    const v = new DataView(sid.buffer);
    v.setUint32(0, random(), false);
    v.setUint32(4, random(), false);
    return sid;
  });
  const labelsOf = (i: number): [string, string][] => [
    ['__name__', `metric_${i % metricCount}`],
    ['instance', `host-${i % 97}:9100`],
    ['job', `job_${i % 7}`],
  ];
  const seenValues = new Set<string>();
  const batches: Op[][] = [];
  let puts = 0;
  let valueBytes = 0;
  let cursor = 0; // position in (chunk index, series index) order
  const total = seriesCount * CHUNKS_PER_SERIES;
  while (cursor < total) {
    // log-uniform batch size in [50, 2000]
    const size = Math.round(50 * Math.exp(Math.log(40) * (random() / 2 ** 32)));
    const ops: Op[] = [];
    for (let n = 0; n < size && cursor < total; n++, cursor++) {
      const chunkIndex = Math.floor(cursor / seriesCount);
      const seriesIndex = cursor % seriesCount;
      const sid = seriesIds[seriesIndex]!;
      const value = new Uint8Array(150 + (random() % 151));
      for (let i = 0; i < value.length; i++) value[i] = random() & 0xff;
      ops.push({ type: 'put', key: chunkKey(sid, T0_MS + chunkIndex * CHUNK_SPAN_MS), value });
      valueBytes += value.length;
      if (chunkIndex === 0) {
        const labels = labelsOf(seriesIndex);
        ops.push({ type: 'put', key: concat(utf8('S'), sid), value: utf8(JSON.stringify(labels)) });
        for (const [name, labelValue] of labels) {
          ops.push({ type: 'put', key: concat(postingPrefix(name, labelValue), sid), value: new Uint8Array(0) });
          if (!seenValues.has(`${name}\u0000${labelValue}`)) {
            seenValues.add(`${name}\u0000${labelValue}`);
            const v = concat(utf8('V'), DAY, utf8(name), Uint8Array.of(0), utf8(labelValue));
            ops.push({ type: 'put', key: v, value: new Uint8Array(0) });
            ops.push({ type: 'put', key: concat(utf8('N'), DAY, utf8(name)), value: new Uint8Array(0) });
          }
        }
      }
    }
    puts += ops.length;
    batches.push(ops);
  }
  return { batches, seriesIds, metricCount, puts, valueBytes };
}

function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))]!;
}

interface Timing {
  readonly count: number;
  readonly rows: number;
  readonly seconds: number;
  /** CPU time of the whole process (all threads), which other load on the machine does not inflate. */
  readonly cpuSeconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function timeOps(count: number, op: (i: number) => Promise<number>): Promise<Timing> {
  const latencies: number[] = [];
  let rows = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    rows += await op(i);
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpuStart);
  latencies.sort((a, b) => a - b);
  return { count, rows, seconds, cpuSeconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await diskBytes(p);
    else total += (await stat(p)).blocks * 512;
  }
  return total;
}

interface ChildResult {
  readonly candidate: string;
  readonly concurrency: number;
  readonly puts: number;
  readonly batches: number;
  readonly writeSeconds: number;
  readonly writeCpuSeconds: number;
  readonly batchP50Ms: number;
  readonly batchP99Ms: number;
  readonly reads: Record<string, Timing>;
  readonly diskBytes: number;
  /** RSS with the workload built, before the store is opened. */
  readonly baselineRssBytes: number;
  readonly peakRssBytes: number;
}

async function runChild(candidateName: string, concurrency: number, seriesCount: number): Promise<ChildResult> {
  const spec = CANDIDATES.find((c) => c.name === candidateName);
  if (spec === undefined) throw new Error(`unknown candidate ${candidateName}`);
  const workload = buildWorkload(seriesCount);
  const baselineRssBytes = process.memoryUsage().rss;
  const dir = await mkdtemp(path.join(os.tmpdir(), `kv-choice-${candidateName}-`));
  try {
    const db = await spec.open(dir);
    const latencies: number[] = [];
    let next = 0;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < workload.batches.length; i = next++) {
          const t = performance.now();
          await db.batch(workload.batches[i]!);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const writeSeconds = (performance.now() - started) / 1000;
    const writeCpuSeconds = cpuSecondsSince(cpuStart);
    latencies.sort((a, b) => a - b);

    const random = prng(0x72656164);
    const sidAt = (): Uint8Array => workload.seriesIds[random() % workload.seriesIds.length]!;
    const reads: Record<string, Timing> = {};
    reads['scan 1h'] = await timeOps(2000, () => {
      const startMs = T0_MS + (random() % (CHUNKS_PER_SERIES - 2)) * CHUNK_SPAN_MS;
      const sid = sidAt();
      return db.scan(chunkKey(sid, startMs).subarray(0, 17), chunkKey(sid, startMs + HOUR_MS).subarray(0, 17), 1000);
    });
    reads['scan 24h'] = await timeOps(500, () => {
      const sid = sidAt();
      return db.scan(chunkKey(sid, T0_MS).subarray(0, 17), chunkKey(sid, T0_MS + 24 * HOUR_MS).subarray(0, 17), 1000);
    });
    reads['postings prefix'] = await timeOps(500, () => {
      const prefix = postingPrefix('__name__', `metric_${random() % workload.metricCount}`);
      return db.scan(prefix, prefixEnd(prefix), 1000);
    });
    reads['get'] = await timeOps(10_000, async () => {
      const v = await db.get(chunkKey(sidAt(), T0_MS + (random() % CHUNKS_PER_SERIES) * CHUNK_SPAN_MS));
      return v === undefined ? 0 : 1;
    });
    reads['getMany 100'] = await timeOps(200, () =>
      db.getMany(Array.from({ length: 100 }, () => chunkKey(sidAt(), T0_MS + (random() % CHUNKS_PER_SERIES) * CHUNK_SPAN_MS))),
    );
    await db.close();
    return {
      candidate: candidateName,
      concurrency,
      puts: workload.puts,
      batches: workload.batches.length,
      writeSeconds,
      writeCpuSeconds,
      batchP50Ms: percentile(latencies, 50),
      batchP99Ms: percentile(latencies, 99),
      reads,
      diskBytes: await diskBytes(dir),
      baselineRssBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function spawnChild(candidate: string, concurrency: number, seriesCount: number): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', self, '--child', candidate, String(concurrency), String(seriesCount)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${candidate} c=${concurrency} exited with ${code}`));
      else resolve(JSON.parse(out) as ChildResult);
    });
  });
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Latency of one small write plus fdatasync on this disk: the price of each synced commit. */
async function measureFsync(count: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const { open } = await import('node:fs/promises');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kv-choice-fsync-'));
  const file = await open(path.join(dir, 'f'), 'w');
  const page = new Uint8Array(4096).fill(7);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await file.write(page, 0, page.length, (i % 64) * page.length);
      await file.datasync();
      latencies.push(performance.now() - t);
    }
  } finally {
    await file.close();
    await rm(dir, { recursive: true, force: true });
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const result = await runChild(args[1]!, Number(args[2]), Number(args[3]));
    process.stdout.write(JSON.stringify(result));
    return;
  }
  const quick = args.includes('--quick');
  const seriesCount = quick ? 200 : 1500;
  const reps = quick ? 1 : 3;
  const fsync = await measureFsync(200);
  const runs = new Map<string, ChildResult[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const spec of CANDIDATES) {
      for (const concurrency of [4, 16]) {
        const r = await spawnChild(spec.name, concurrency, seriesCount);
        const id = `${spec.name}\u0000${concurrency}`;
        runs.set(id, [...(runs.get(id) ?? []), r]);
        process.stderr.write(`rep ${rep + 1}/${reps} ${spec.name} c=${concurrency}: ${fmt(r.puts / r.writeSeconds)} puts/s\n`);
      }
    }
  }
  const all = [...runs.values()];
  const first = all[0]![0]!;
  console.log(`\n${fmt(first.puts)} puts in ${fmt(first.batches)} batches (${seriesCount} series x ${CHUNKS_PER_SERIES} chunks); ` +
    `median of ${reps} runs per row; fdatasync of 4 KiB on this disk: p50 ${fmt(fsync.p50Ms, 2)} ms, p99 ${fmt(fsync.p99Ms, 2)} ms\n`);
  console.log('| candidate | conc | puts/s | batches/s | puts/cpu-s | batch p50 ms | batch p99 ms | disk MB | peak RSS MB | RSS growth MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const rs of all) {
    const m = (f: (r: ChildResult) => number): number => median(rs.map(f));
    const r = rs[0]!;
    console.log(
      `| ${r.candidate} | ${r.concurrency} | ${fmt(m((x) => x.puts / x.writeSeconds))} | ${fmt(m((x) => x.batches / x.writeSeconds), 1)} | ${fmt(m((x) => x.puts / x.writeCpuSeconds))} | ` +
        `${fmt(m((x) => x.batchP50Ms), 1)} | ${fmt(m((x) => x.batchP99Ms), 1)} | ${fmt(m((x) => x.diskBytes) / 2 ** 20, 1)} | ` +
        `${fmt(m((x) => x.peakRssBytes) / 2 ** 20)} | ${fmt(m((x) => x.peakRssBytes - x.baselineRssBytes) / 2 ** 20)} |`,
    );
  }
  console.log('\nReads, on the store just written by the concurrency-16 run:\n');
  console.log('| candidate | read | calls/s | rows/s | rows/cpu-s | p50 ms | p99 ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const rs of all.filter((x) => x[0]!.concurrency === 16)) {
    for (const name of Object.keys(rs[0]!.reads)) {
      const m = (f: (t: Timing) => number): number => median(rs.map((x) => f(x.reads[name]!)));
      console.log(
        `| ${rs[0]!.candidate} | ${name} | ${fmt(m((t) => t.count / t.seconds))} | ${fmt(m((t) => t.rows / t.seconds))} | ${fmt(m((t) => t.rows / t.cpuSeconds))} | ` +
          `${fmt(m((t) => t.p50Ms), 3)} | ${fmt(m((t) => t.p99Ms), 3)} |`,
      );
    }
  }
  console.log('\nDurability as configured:');
  for (const spec of CANDIDATES) console.log(`- ${spec.name}: ${spec.durability}`);
}

await main();
