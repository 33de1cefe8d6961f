/**
 * Read-path benchmark (docs/benchmarks.md, "Storage" → "Read path"): CPU time of Storage.select
 * for the selections the PromQL engine makes, on node_exporter-like data in the embedded KV.
 *
 *   npx tsx bench/read-path.ts [--hosts 50] [--hours 6] [--reps 5] [--store DIR]
 *
 * The data (bench/data/node-exporter.ts, 75 series per host, 15 s scrapes) is appended in time
 * order through a buffered Storage, which is then closed, so every chunk is read from the KV.
 * With --store DIR the store is built there once and reused by later runs (a run from another
 * checkout can then read the very same bytes); without it a temporary one is built and removed.
 *
 * Each case is one select() with the range the engine asks for (a 5 min lookback or rate window
 * before the first step): the first call on a fresh Storage (cold chunk and label caches), then
 * `reps` repeats. Reported per case: CPU milliseconds (user + system, process.cpuUsage) of the
 * cold call and the median repeat, and wall milliseconds of the median repeat. Prints a table and
 * a JSON line starting with {"bench":"read-path". Run under `node --expose-gc --import tsx` to
 * collect garbage between cases, so that no case pays for the arrays of the one before.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmbeddedKv } from '../src/kv/embedded.js';
import type { Matcher } from '../src/model/matchers.js';
import { Storage } from '../src/storage/index.js';
import type { SeriesAppend } from '../src/storage/types.js';
import { DEFAULT_START_MS, generateSeriesSlices, samplesPerSeries } from './data/node-exporter.js';
import { appendBatchOf } from '../src/storage/append-batch.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const INTERVAL_MS = 15_000;
const LOOKBACK_MS = 5 * MINUTE_MS;

interface Options {
  hosts: number;
  hours: number;
  reps: number;
  store: string | null;
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { hosts: 50, hours: 6, reps: 5, store: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[++i];
    if (arg === '--store' && value !== undefined) opts.store = value;
    else if (arg === '--hosts' || arg === '--hours' || arg === '--reps') {
      const n = Number(value);
      if (!(n > 0)) throw new Error(`${arg} needs a positive number, got ${JSON.stringify(value)}`);
      opts[arg.slice(2) as 'hosts' | 'hours' | 'reps'] = n;
    } else throw new Error(`unknown argument ${arg}`);
  }
  return opts;
}

/** Appends the data set in time order, 10 minutes of scrapes per call, through a buffered head. */
async function build(dir: string, hosts: number, hours: number): Promise<void> {
  const kv = await EmbeddedKv.open(dir, { durability: 'commit' });
  const storage = await Storage.open(kv, { headFlush: { intervalMs: 5000 }, writerId: 0x7ead1n });
  const gen = { hosts, durationMs: hours * HOUR_MS, intervalMs: INTERVAL_MS };
  for (const slice of generateSeriesSlices(gen, 10 * MINUTE_MS)) {
    const calls: SeriesAppend[][] = [];
    for (let i = 0; i < slice.length; i += 100) calls.push(slice.slice(i, i + 100));
    await Promise.all(calls.map((c) => storage.append(appendBatchOf(c))));
  }
  await storage.close();
  await kv.close();
}

interface Case {
  readonly label: string;
  readonly matchers: Matcher[];
  readonly startMs: number;
  readonly endMs: number;
}

const eq = (name: string, value: string): Matcher => ({ type: '=', name, value });

function cases(endMs: number, hours: number): Case[] {
  const cpu = eq('__name__', 'node_cpu_seconds_total');
  const instant = (label: string, matchers: Matcher[]): Case => ({ label, matchers, startMs: endMs - LOOKBACK_MS, endMs });
  const range = (label: string, matchers: Matcher[], rangeMs: number): Case => ({
    label,
    matchers,
    startMs: endMs - rangeMs - LOOKBACK_MS,
    endMs,
  });
  const whole = `${hours} h`;
  return [
    instant('node_load1 (1 series/host), instant', [eq('__name__', 'node_load1')]),
    instant('rate(node_cpu_seconds_total[5m]), instant', [cpu]),
    instant('node_cpu_seconds_total{mode=~"user|system"}, instant', [cpu, { type: '=~', name: 'mode', value: 'user|system' }]),
    instant('node_cpu_seconds_total{mode!="idle"}, instant', [cpu, { type: '!=', name: 'mode', value: 'idle' }]),
    instant('node_load1{instance=~"host-0[0-3].*"}, instant', [eq('__name__', 'node_load1'), { type: '=~', name: 'instance', value: 'host-0[0-3].*' }]),
    instant('{job="node"} (every series), instant', [eq('job', 'node')]),
    instant('node_load1{instance="host-001:9100"}, instant', [eq('__name__', 'node_load1'), eq('instance', 'host-001:9100')]),
    range('rate(node_cpu_seconds_total[5m]), 1 h range', [cpu], HOUR_MS),
    range(`rate(node_cpu_seconds_total[5m]), ${whole} range`, [cpu], hours * HOUR_MS - LOOKBACK_MS),
    range(`node_load1{instance="host-001:9100"}, ${whole} range`, [eq('__name__', 'node_load1'), eq('instance', 'host-001:9100')], hours * HOUR_MS - LOOKBACK_MS),
  ];
}

interface CaseResult {
  label: string;
  series: number;
  samples: number;
  coldCpuMs: number;
  cpuMs: number;
  wallMs: number;
}

/** Full garbage collection when node runs with --expose-gc; nothing otherwise. */
function collectGarbage(): void {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof gc === 'function') gc();
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

async function measure(dir: string, all: readonly Case[], reps: number): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of all) {
    collectGarbage();
    // A fresh Storage per case: the cold call pays for label and chunk decoding like a first query.
    const kv = await EmbeddedKv.open(dir);
    const storage = await Storage.open(kv, { writerId: 0x7ead2n, orphanCheckMs: 0 });
    try {
      const params = { matchers: c.matchers, startMs: c.startMs, endMs: c.endMs };
      const cpu: number[] = [];
      const wall: number[] = [];
      let series = 0;
      let samples = 0;
      for (let i = 0; i <= reps; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const got = await storage.select(params);
        wall.push(performance.now() - t0);
        cpu.push(cpuMsSince(c0));
        series = got.length;
        samples = got.reduce((n, s) => n + s.timestamps.length, 0);
      }
      out.push({ label: c.label, series, samples, coldCpuMs: cpu[0]!, cpuMs: median(cpu.slice(1)), wallMs: median(wall.slice(1)) });
    } finally {
      await storage.close();
      await kv.close();
    }
  }
  return out;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const scratch = opts.store === null ? await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-read-')) : null;
  const dir = opts.store ?? path.join(scratch!, 'store');
  try {
    if (!existsSync(path.join(dir, 'data.mdb'))) {
      const t0 = performance.now();
      await build(dir, opts.hosts, opts.hours);
      console.error(`built ${opts.hosts} hosts × ${opts.hours} h in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    }
    const n = samplesPerSeries({ hosts: opts.hosts, durationMs: opts.hours * HOUR_MS, intervalMs: INTERVAL_MS });
    const endMs = DEFAULT_START_MS + (n - 1) * INTERVAL_MS;
    const results = await measure(dir, cases(endMs, opts.hours), opts.reps);
    const lines = [
      '| selection | series | samples | cold CPU ms | CPU ms (median) | wall ms (median) |',
      '|---|---:|---:|---:|---:|---:|',
      ...results.map(
        (r) => `| ${r.label.replaceAll('|', '\\|')} | ${fmt(r.series)} | ${fmt(r.samples)} | ${fmt(r.coldCpuMs, 1)} | ${fmt(r.cpuMs, 1)} | ${fmt(r.wallMs, 1)} |`,
      ),
    ];
    console.log(lines.join('\n'));
    console.log(JSON.stringify({ bench: 'read-path', options: opts, node: process.version, results }));
  } finally {
    if (scratch !== null) await rm(scratch, { recursive: true, force: true });
  }
}

await main();
