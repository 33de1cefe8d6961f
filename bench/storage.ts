/**
 * Storage benchmark (docs/benchmarks.md, "Storage"): the Storage engine over the embedded KV on
 * node_exporter-like data (bench/data/node-exporter.ts, 75 series per host, 15 s scrapes).
 *
 *   npm run bench:storage                          bench/chunk.ts, then this with the defaults
 *   npx tsx bench/storage.ts [--hosts 200] [--hours 2] [--write-through-hours 0.5]
 *       [--long-hosts 4] [--long-hours 24] [--batch 2000] [--concurrency 4] [--flush-ms 5000]
 *       [--quick] [--write-docs]
 *
 * Every flag can also be given as an environment variable: BENCH_STORAGE_HOSTS, ..._HOURS,
 * ..._WRITE_THROUGH_HOURS, ..._LONG_HOSTS, ..._LONG_HOURS, ..._BATCH, ..._CONCURRENCY, ..._FLUSH_MS.
 *
 * 1. Append: the data is sent in time order as append calls of about `batch` samples (one sample
 *    per series, as Prometheus remote write sends them), `concurrency` calls in flight, into a
 *    fresh embedded KV per head policy: write-through over the first `write-through-hours` (it
 *    is the slower one; the rate is steady once chunks have been cut once, after 30 minutes), and
 *    buffered (`flush-ms` flush interval) over all `hours`. Reported: samples/s until the last
 *    call resolved (every sample durable), KV puts per sample (appends alone, and with the final
 *    flush on close).
 * 2. Size, in bytes per sample: live keys and values after compaction (all families, chunks,
 *    index), and the data directory on disk after close (every chunk written and closed), after a
 *    compaction pass (closed windows rewritten into compacted blocks), and after
 *    EmbeddedKv.reclaimSpace rewrote the LMDB file without its free pages.
 * 3. Select: a fresh Storage on the buffered store (1 h ranges) and on a store of long-hosts ×
 *    long-hours (24 h ranges); latency of select() for about 1, 100 and 10,000 series (all series
 *    of the long store): the first call (cold chunk cache), and p50 / p95 of the repeats.
 *
 * Prints tables and a JSON line starting with {"bench":"storage"; --write-docs also replaces the
 * "Storage" section of docs/benchmarks.md.
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EmbeddedKv } from '../src/kv/embedded.js';
import type { KvOp, KvRange, KvScanPage, KvStore } from '../src/kv/kv.js';
import type { Matcher } from '../src/model/matchers.js';
import { Storage, type HeadFlush } from '../src/storage/index.js';
import { NS_CHUNK, NS_LABEL_NAME, NS_LABEL_VALUE, NS_POSTING, NS_SERIES } from '../src/storage/keys.js';
import { compactClosedWindows, type CompactionSummary } from '../src/storage/maintenance/compaction.js';
import type { SeriesAppend } from '../src/storage/types.js';
import { DEFAULT_START_MS, generateSeries, type GeneratedSeries } from './data/node-exporter.js';
import { appendBatchOf } from '../src/storage/append-batch.js';

const HOUR_MS = 3_600_000;
const INTERVAL_MS = 15_000;

interface Options {
  hosts: number;
  hours: number;
  writeThroughHours: number;
  longHosts: number;
  longHours: number;
  batch: number;
  concurrency: number;
  flushMs: number;
  quick: boolean;
  writeDocs: boolean;
}

const NUMERIC_FLAGS = {
  '--hosts': 'hosts',
  '--hours': 'hours',
  '--write-through-hours': 'writeThroughHours',
  '--long-hosts': 'longHosts',
  '--long-hours': 'longHours',
  '--batch': 'batch',
  '--concurrency': 'concurrency',
  '--flush-ms': 'flushMs',
} as const;

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const opts: Options = {
    hosts: 200,
    hours: 2,
    writeThroughHours: 0.5,
    longHosts: 4,
    longHours: 24,
    batch: 2000,
    concurrency: 4,
    flushMs: 5000,
    quick: false,
    writeDocs: false,
  };
  for (const [flag, field] of Object.entries(NUMERIC_FLAGS)) {
    const fromEnv = env[`BENCH_STORAGE_${flag.slice(2).replaceAll('-', '_').toUpperCase()}`];
    if (fromEnv !== undefined) opts[field] = positive(fromEnv, flag);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--write-docs') opts.writeDocs = true;
    else if (Object.hasOwn(NUMERIC_FLAGS, arg)) opts[NUMERIC_FLAGS[arg as keyof typeof NUMERIC_FLAGS]] = positive(argv[++i], arg);
    else throw new Error(`unknown argument ${arg}`);
  }
  if (opts.quick) {
    opts.hosts = Math.min(opts.hosts, 20);
    opts.longHosts = Math.min(opts.longHosts, 2);
    opts.longHours = Math.min(opts.longHours, 6);
  }
  return opts;
}

function positive(text: string | undefined, what: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`${what} needs a positive number, got ${JSON.stringify(text)}`);
  return n;
}

// ---- a KV that counts what the storage asks of it ----------------------------------------------

class CountingKv implements KvStore {
  batches = 0;
  puts = 0;
  dels = 0;
  putBytes = 0;

  constructor(readonly inner: KvStore) {}

  reset(): void {
    this.batches = this.puts = this.dels = this.putBytes = 0;
  }

  get(key: Uint8Array): Promise<Uint8Array | null> {
    return this.inner.get(key);
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    return this.inner.getMany(keys);
  }

  batch(ops: readonly KvOp[]): Promise<void> {
    this.batches++;
    for (const op of ops) {
      if (op.type === 'put') {
        this.puts++;
        this.putBytes += op.key.length + op.value.length;
      } else this.dels++;
    }
    return this.inner.batch(ops);
  }

  scan(range: KvRange): Promise<KvScanPage> {
    return this.inner.scan(range);
  }

  scanMany(ranges: readonly KvRange[]): Promise<KvScanPage[]> {
    return this.inner.scanMany(ranges);
  }

  compareAndSwap(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    if (value !== null) this.puts++;
    return this.inner.compareAndSwap(key, expected, value);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

// ---- data and append -------------------------------------------------------------------------

interface DataSet {
  readonly series: GeneratedSeries[];
  readonly samplesPerSeries: number;
  readonly totalSamples: number;
  readonly startMs: number;
  readonly endMs: number;
}

function dataSet(hosts: number, hours: number): DataSet {
  const series = generateSeries({ hosts, durationMs: hours * HOUR_MS, intervalMs: INTERVAL_MS, seed: 11 });
  const samplesPerSeries = series[0]?.timestamps.length ?? 0;
  return {
    series,
    samplesPerSeries,
    totalSamples: samplesPerSeries * series.length,
    startMs: DEFAULT_START_MS,
    endMs: DEFAULT_START_MS + samplesPerSeries * INTERVAL_MS,
  };
}

/**
 * Append calls in time order over the first `upTo` scrapes: `k` scrapes of a block of series,
 * about `batch` samples each.
 */
function* appendCalls(data: DataSet, batch: number, upTo: number): Generator<SeriesAppend[]> {
  const n = data.series.length;
  const k = Math.max(1, Math.floor(batch / n));
  const perCall = Math.max(1, Math.floor(batch / k));
  for (let from = 0; from < upTo; from += k) {
    const to = Math.min(upTo, from + k);
    for (let s0 = 0; s0 < n; s0 += perCall) {
      const call: SeriesAppend[] = [];
      for (let s = s0; s < Math.min(n, s0 + perCall); s++) {
        const g = data.series[s]!;
        call.push({ labels: g.labels, timestamps: g.timestamps.subarray(from, to), values: g.values.subarray(from, to) });
      }
      yield call;
    }
  }
}

/** Sends every call with `concurrency` in flight; resolves when the last one is durable. */
async function appendAll(storage: Storage, data: DataSet, upTo: number, batch: number, concurrency: number): Promise<number> {
  const calls = appendCalls(data, batch, upTo);
  let count = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = calls.next();
      if (next.done === true) return;
      count++;
      await storage.append(appendBatchOf(next.value));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count;
}

// ---- sizes ------------------------------------------------------------------------------------

interface Sizes {
  liveBytes: number;
  chunkBytes: number;
  /** Series (S) and per-day index (I, V, N) keys and values. */
  indexBytes: number;
  /** The data directory (du) after close, before compaction: the file's high-water mark. */
  closedDirBytes: number;
  /** After the compaction pass: blocks replaced the XOR chunks, but LMDB keeps its file size. */
  compactedDirBytes: number;
  /** After EmbeddedKv.reclaimSpace rewrote the file: the figure that counts. */
  dirBytes: number;
  reclaimSeconds: number;
}

async function liveBytes(kv: KvStore): Promise<{ all: number; chunks: number; index: number }> {
  let all = 0;
  let chunks = 0;
  let index = 0;
  let start: Uint8Array | undefined = Uint8Array.of(0);
  for (let pages = 0; start !== undefined && pages < 10_000_000; pages++) {
    const page: KvScanPage = await kv.scan({ start, end: new Uint8Array(0), limit: 10_000 });
    for (const e of page.entries) {
      const size = e.key.length + e.value.length;
      all += size;
      if (e.key[0] === NS_CHUNK) chunks += size;
      else if (INDEX_NAMESPACES.has(e.key[0]!)) index += size;
    }
    start = page.next;
  }
  return { all, chunks, index };
}

const INDEX_NAMESPACES = new Set([NS_SERIES, NS_POSTING, NS_LABEL_VALUE, NS_LABEL_NAME]);

/** Bytes the files of a directory occupy on disk (what du counts), not their apparent length. */
async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? await dirBytes(p) : (await stat(p)).blocks * 512;
  }
  return total;
}

// ---- select latency -----------------------------------------------------------------------------

interface SelectCase {
  readonly label: string;
  readonly matchers: Matcher[];
  readonly rangeMs: number;
  readonly reps: number;
}

/**
 * Matchers selecting close to `target` series: one node_load1 series; up to 1,000 the cpu
 * counters (32 per host) of enough hosts; beyond, every series of enough hosts.
 */
function matchersFor(target: number, data: DataSet): Matcher[] {
  const instanceOf = (labels: GeneratedSeries['labels']): string => labels.find((l) => l.name === 'instance')!.value;
  const hostsAll = [...new Set(data.series.map((s) => instanceOf(s.labels)))];
  if (target === 1) {
    return [
      { type: '=', name: '__name__', value: 'node_load1' },
      { type: '=', name: 'instance', value: hostsAll[0]! },
    ];
  }
  if (target >= data.series.length) return [{ type: '=', name: 'job', value: 'node' }];
  const cpuOnly = target <= 1000;
  const perHost = cpuOnly ? 32 : data.series.length / hostsAll.length;
  const hosts = hostsAll.slice(0, Math.max(1, Math.min(hostsAll.length, Math.round(target / perHost))));
  const escaped = hosts.map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return [
    cpuOnly ? { type: '=', name: '__name__', value: 'node_cpu_seconds_total' } : { type: '=', name: 'job', value: 'node' },
    { type: '=~', name: 'instance', value: escaped.join('|') },
  ];
}

interface SelectResult {
  label: string;
  series: number;
  samples: number;
  coldMs: number;
  p50Ms: number;
  p95Ms: number;
  reps: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function measureSelects(storage: Storage, data: DataSet, cases: readonly SelectCase[]): Promise<SelectResult[]> {
  const out: SelectResult[] = [];
  for (const c of cases) {
    const endMs = data.endMs - 1;
    const params = { matchers: c.matchers, startMs: endMs - c.rangeMs + 1, endMs };
    const times: number[] = [];
    let series = 0;
    let samples = 0;
    for (let i = 0; i <= c.reps; i++) {
      const t0 = performance.now();
      const got = await storage.select(params);
      times.push(performance.now() - t0);
      series = got.length;
      samples = got.reduce((n, s) => n + s.timestamps.length, 0);
    }
    const warm = times.slice(1).sort((a, b) => a - b);
    out.push({ label: c.label, series, samples, coldMs: times[0]!, p50Ms: quantile(warm, 0.5), p95Ms: quantile(warm, 0.95), reps: c.reps });
  }
  return out;
}

function selectCases(data: DataSet, targets: readonly number[], rangesH: readonly number[]): SelectCase[] {
  const cases: SelectCase[] = [];
  for (const rangeH of rangesH) {
    for (const target of targets) {
      const matchers = matchersFor(target, data);
      const reps = target <= 1 ? 50 : target <= 200 ? 20 : 5;
      cases.push({ label: `~${target.toLocaleString('en-US')} series, ${rangeH} h`, matchers, rangeMs: rangeH * HOUR_MS, reps });
    }
  }
  return cases;
}

// ---- the run ----------------------------------------------------------------------------------

interface PolicyResult {
  policy: string;
  /** Hours of data appended. */
  hours: number;
  calls: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  putsPerSampleAppend: number;
  putsPerSampleTotal: number;
  closeSeconds: number;
  compaction: Pick<CompactionSummary, 'windowsExamined' | 'windowsCompacted' | 'chunksWritten' | 'chunksDeleted'> & { seconds: number };
  sizes: Sizes;
}

async function runPolicy(
  name: string,
  headFlush: HeadFlush,
  data: DataSet,
  hours: number,
  opts: Options,
  scratch: string,
  keepOpen: boolean,
): Promise<{ result: PolicyResult; dir: string }> {
  const upTo = Math.min(data.samplesPerSeries, Math.round((hours * HOUR_MS) / INTERVAL_MS));
  const samples = upTo * data.series.length;
  const dir = await mkdtemp(path.join(scratch, `${name}-`));
  const embedded = await EmbeddedKv.open(dir);
  const kv = new CountingKv(embedded);
  const storage = await Storage.open(kv, { headFlush, writerId: 0x5106n });
  kv.reset();
  const t0 = performance.now();
  const calls = await appendAll(storage, data, upTo, opts.batch, opts.concurrency);
  const seconds = (performance.now() - t0) / 1000;
  const putsAppend = kv.puts;
  const c0 = performance.now();
  await storage.close();
  const closeSeconds = (performance.now() - c0) / 1000;
  const putsTotal = kv.puts;
  const closedDirBytes = await dirBytes(dir);
  const k0 = performance.now();
  const summary = await compactClosedWindows(kv, { nowMs: data.endMs + 24 * HOUR_MS });
  const compactionSeconds = (performance.now() - k0) / 1000;
  const compactedDirBytes = await dirBytes(dir);
  const r0 = performance.now();
  await embedded.reclaimSpace({ minFileBytes: 0, minFreeFraction: 0.25 });
  const reclaimSeconds = (performance.now() - r0) / 1000;
  const live = await liveBytes(kv);
  await kv.close();
  const disk = { closedDirBytes, compactedDirBytes, dirBytes: await dirBytes(dir), reclaimSeconds };
  if (!keepOpen) await rm(dir, { recursive: true, force: true });
  return {
    dir,
    result: {
      policy: name,
      hours: (upTo * INTERVAL_MS) / HOUR_MS,
      calls,
      samples,
      seconds,
      samplesPerSecond: samples / seconds,
      putsPerSampleAppend: putsAppend / samples,
      putsPerSampleTotal: putsTotal / samples,
      closeSeconds,
      compaction: {
        windowsExamined: summary.windowsExamined,
        windowsCompacted: summary.windowsCompacted,
        chunksWritten: summary.chunksWritten,
        chunksDeleted: summary.chunksDeleted,
        seconds: compactionSeconds,
      },
      sizes: { liveBytes: live.all, chunkBytes: live.chunks, indexBytes: live.index, ...disk },
    },
  };
}

async function selectOn(dir: string, data: DataSet, cases: readonly SelectCase[]): Promise<SelectResult[]> {
  const kv = await EmbeddedKv.open(dir);
  const storage = await Storage.open(kv, { writerId: 0x5107n });
  try {
    return await measureSelects(storage, data, cases);
  } finally {
    await storage.close();
    await kv.close();
  }
}

interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  date: string;
  /** 1-minute load average when the run started and when it ended (others may share the CPUs). */
  loadStart: number;
  loadEnd: number;
}

function machine(): Machine {
  let cpus = os.cpus().length;
  try {
    cpus = Number(execSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    // keep os.cpus()
  }
  const load = os.loadavg()[0]!;
  return { cpus, cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', node: process.version, date: new Date().toISOString(), loadStart: load, loadEnd: load };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function tables(opts: Options, main: DataSet, long: PolicyResult, policies: PolicyResult[], selects: SelectResult[]): string {
  const lines: string[] = [];
  lines.push(
    `Append: ${opts.hosts} hosts = ${fmt(main.series.length)} series, one sample per series every 15 s, in time order; ` +
      `calls of ~${opts.batch} samples, ${opts.concurrency} in flight; embedded KV (LMDB, default durability: each call resolves after the fsync covering it). ` +
      'Each policy starts from an empty store.',
    '',
    '| head policy | data appended | samples | samples/s | KV puts/sample (appends) | KV puts/sample (with final flush) | close (s) |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const p of policies) {
    lines.push(
      `| ${p.policy} | ${fmt(p.hours, 1)} h | ${fmt(p.samples)} | ${fmt(p.samplesPerSecond)} | ${fmt(p.putsPerSampleAppend, 3)} | ${fmt(p.putsPerSampleTotal, 3)} | ${fmt(p.closeSeconds, 1)} |`,
    );
  }
  const [wt, buf] = policies;
  if (wt !== undefined && buf !== undefined) {
    lines.push(
      '',
      `Buffered appends ${fmt(buf.samplesPerSecond / wt.samplesPerSecond, 1)}× as fast as write-through and makes ` +
        `${fmt(wt.putsPerSampleTotal / buf.putsPerSampleTotal, 1)}× fewer KV puts per sample: write-through rewrites the whole open chunk ` +
        'of every series a call touches (one put per series per call), buffered writes one write-ahead record per call and each chunk ' +
        'about once, when it is cut or flushed.',
    );
  }
  lines.push(
    '',
    'Size in bytes per sample: live keys + values after compaction (all families; chunks; series and index), and the data directory on disk (du) ' +
      'after close, after the compaction pass, and after EmbeddedKv.reclaimSpace rewrote the file (the figure that counts).',
    '',
    '| store | live, all | live, chunks | live, index | dir after close | after compaction | after reclaim | compaction: windows examined / rewritten, s | reclaim, s |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  );
  for (const p of [...policies, long]) {
    const per = (b: number): string => fmt(b / p.samples, 2);
    const c = p.compaction;
    lines.push(
      `| ${p.policy}, ${fmt(p.hours, 1)} h | ${per(p.sizes.liveBytes)} | ${per(p.sizes.chunkBytes)} | ${per(p.sizes.indexBytes)} | ` +
        `${per(p.sizes.closedDirBytes)} | ${per(p.sizes.compactedDirBytes)} | ${per(p.sizes.dirBytes)} | ` +
        `${fmt(c.windowsExamined)} / ${fmt(c.windowsCompacted)}, ${fmt(c.seconds, 1)} | ${fmt(p.sizes.reclaimSeconds, 1)} |`,
    );
  }
  lines.push(
    '',
    `Select (a fresh Storage, default 64 MiB chunk cache): the last 1 h of the buffered ${opts.hours} h store above; the last ${opts.longHours} h of a ` +
      `${opts.longHosts}-host store (${fmt(long.samples)} samples, the "long" row). "cold" is the first call, p50/p95 are over the repeats that follow.`,
    '',
    '| selection | series | samples | cold (ms) | p50 (ms) | p95 (ms) | repeats |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of selects) {
    lines.push(`| ${s.label} | ${fmt(s.series)} | ${fmt(s.samples)} | ${fmt(s.coldMs, 1)} | ${fmt(s.p50Ms, 1)} | ${fmt(s.p95Ms, 1)} | ${s.reps} |`);
  }
  return lines.join('\n');
}

function writeDocs(command: string, info: Machine, totalSeconds: number, body: string): void {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');
  const section = [
    '## Storage',
    '',
    `Command: \`${command}\` (bench/storage.ts; \`npm run bench:storage\` runs it after bench/chunk.ts). ` +
      `Run ${info.date.slice(0, 10)} on ${info.cpus} CPU(s) (\`nproc\`), ${info.cpuModel}, Node.js ${info.node}; ` +
      `${fmt(totalSeconds)} s in all. The CPUs were shared with other work: 1-minute load average ${fmt(info.loadStart, 1)} at the start, ` +
      `${fmt(info.loadEnd, 1)} at the end, so the rates and latencies are lower bounds for an idle machine.`,
    '',
    body,
    '',
  ].join('\n');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = current.search(/^## Storage\s*$/m);
  let next: string;
  if (start < 0) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const rest = current.slice(start + 1);
    const end = rest.search(/^## /m);
    // Dated "###" subsections (e.g. "Read path") are kept: only the generated part is replaced.
    const old = end < 0 ? rest : rest.slice(0, end);
    const sub = old.search(/^### /m);
    const kept = sub < 0 ? '' : `${old.slice(sub).trimEnd()}\n`;
    const tail = end < 0 ? '' : rest.slice(end);
    next = current.slice(0, start) + [section, kept, tail].filter((part) => part !== '').join('\n');
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const info = machine();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-storage-'));
  const started = performance.now();
  try {
    const main = dataSet(opts.hosts, opts.hours);
    console.error(`data: ${fmt(main.series.length)} series × ${main.samplesPerSeries} samples`);
    const bufferedFlush: HeadFlush = { intervalMs: opts.flushMs };
    const bufferedName = `buffered (${opts.flushMs / 1000} s flush)`;
    const writeThrough = await runPolicy('write-through', 'write-through', main, opts.writeThroughHours, opts, scratch, false);
    console.error(`write-through: ${fmt(writeThrough.result.samplesPerSecond)} samples/s`);
    const buffered = await runPolicy(bufferedName, bufferedFlush, main, opts.hours, opts, scratch, true);
    console.error(`buffered: ${fmt(buffered.result.samplesPerSecond)} samples/s`);
    const policies = [writeThrough.result, buffered.result];

    const selects: SelectResult[] = [];
    selects.push(...(await selectOn(buffered.dir, main, selectCases(main, [1, 100, 10_000], [1]))));
    await rm(buffered.dir, { recursive: true, force: true });

    const long = dataSet(opts.longHosts, opts.longHours);
    console.error(`long data: ${fmt(long.series.length)} series × ${long.samplesPerSeries} samples`);
    const longRun = await runPolicy(`${bufferedName}, long`, bufferedFlush, long, opts.longHours, opts, scratch, true);
    const longTargets = [1, 100, long.series.length];
    selects.push(...(await selectOn(longRun.dir, long, selectCases(long, longTargets, [Math.min(24, opts.longHours)]))));

    const body = tables(opts, main, longRun.result, policies, selects);
    console.log(`\n${body}\n`);
    info.loadEnd = os.loadavg()[0]!;
    const seconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({ bench: 'storage', options: opts, machine: info, policies, long: longRun.result, selects, seconds }));
    if (opts.writeDocs) {
      const argv = process.argv.slice(2).filter((a) => a !== '--write-docs').join(' ');
      writeDocs(`npx tsx bench/storage.ts${argv === '' ? '' : ` ${argv}`}`, info, seconds, body);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
