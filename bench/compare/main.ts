/**
 * `npm run bench`: Metricstor side by side with VictoriaMetrics and Prometheus on the same
 * node_exporter-like data (docs/benchmarks.md, "Side by side"). For each data set size: ingest at
 * each concurrency into a fresh data dir of each system, disk after flush and compaction, then
 * the query benchmark against one instance of each; then Metricstor on the FlareDB dev server.
 * Results go to the marked section of docs/benchmarks.md (or only to stdout with --no-write).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERIES_PER_HOST } from '../data/node-exporter.js';
import { startFlareDbDev } from '../flaredb-backend.js';
import { buildDataset, describeSize, samplesOf, type Dataset, type DatasetSize } from './dataset.js';
import { quantile, replay, verifyIngested } from './ingest-runner.js';
import { parseOptions, type BenchOptions } from './options.js';
import { cpuSeconds, peakRssBytes, sampleRssSplit } from './proc-stats.js';
import { BENCH_QUERIES, benchmarkQueries, renderQueryReport, type BenchQuery, type QueryReport, type QueryTarget } from './queries.js';
import { QUERY_KINDS } from './query-http.js';
import { summarise } from './query-report.js';
import {
  renderDiskTable,
  renderFlareDbTable,
  renderIngestRatios,
  renderIngestTable,
  renderScalingTable,
  replaceSection,
  type DiskRow,
  type FlareDbRow,
  type IngestRow,
  type QueryLatencyRow,
} from './report.js';
import { metricstor } from './systems/metricstor.js';
import type { RunningSystem, SystemKind } from './systems/system.js';
import { prometheus } from './systems/prometheus.js';
import { victoriaMetrics } from './systems/victoriametrics.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'benchmarks.md');
const REQUEST_TIMEOUT_MS = 120_000;
const VERIFY_TIMEOUT_MS = 60_000;
/** The query benchmark of one size; past it the run stops with an error (the servers are stopped, so outstanding requests fail fast). */
const QUERY_PHASE_TIMEOUT_MS = 45 * 60_000;
/** Ingest of one system at one concurrency may take at most this long per million samples, plus a minute. */
const PHASE_MS_PER_MILLION = 120_000;
/** Rough rates for the run-time estimate (samples/s on this kind of machine). */
const ESTIMATE_RATES = { metricstor: 150_000, victoriametrics: 1_200_000, prometheus: 400_000, flaredb: 8_000 } as const;

interface Results {
  readonly ingest: IngestRow[];
  readonly disk: DiskRow[];
  readonly flaredb: FlareDbRow[];
  /** The full query report of the main size. */
  readonly queryReport: { size: DatasetSize; markdown: string }[];
  /** p50/p95 per size, system and kind, for the scaling table. */
  readonly queryLatency: QueryLatencyRow[];
  readonly skipped: string[];
}

function log(message: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** The systems to run, in order; Metricstor once per head policy. */
function systemKinds(options: BenchOptions): { kind: SystemKind; queryTarget: boolean }[] {
  const out: { kind: SystemKind; queryTarget: boolean }[] = [];
  if (options.systems.includes('metricstor')) {
    options.heads.forEach((head, i) => out.push({ kind: metricstor({ head, name: i === 0 ? 'metricstor' : `metricstor-${head}` }), queryTarget: i === 0 }));
  }
  if (options.systems.includes('victoriametrics')) out.push({ kind: victoriaMetrics(), queryTarget: true });
  if (options.systems.includes('prometheus')) out.push({ kind: prometheus(), queryTarget: true });
  return out;
}

/** A rough forecast of the run time on an idle machine of this kind, printed at the start. */
function estimateMinutes(options: BenchOptions, kinds: readonly { kind: SystemKind; queryTarget: boolean }[], mainSize: DatasetSize): number {
  let seconds = 0;
  for (const size of options.sizes) {
    const everything = size === mainSize || options.fullScaling;
    const samples = samplesOf(size);
    const runs = kinds.filter((k) => everything || k.queryTarget);
    for (const { kind } of runs) {
      const rate = kind.name.startsWith('metricstor') ? ESTIMATE_RATES.metricstor : kind.name === 'victoriametrics' ? ESTIMATE_RATES.victoriametrics : ESTIMATE_RATES.prometheus;
      seconds += (everything ? options.concurrencies.length : 1) * (samples / rate + 10);
    }
    seconds += samples / 400_000; // encoding the requests
    if (options.queries) {
      const queries = everything ? BENCH_QUERIES.length : Math.ceil(BENCH_QUERIES.length / options.scalingQueryStride);
      const requests = queries * 3 * (1 + options.queryReps) * kinds.filter((k) => k.queryTarget).length;
      const series = size.hosts * SERIES_PER_HOST;
      seconds += (requests * (5 + (4 * series) / 1000)) / 1000;
    }
  }
  if (options.flaredb !== null) seconds += samplesOf(options.flaredb) / ESTIMATE_RATES.flaredb + 20;
  return seconds / 60;
}

async function machineLines(kinds: readonly SystemKind[]): Promise<string[]> {
  const cpus = os.cpus();
  return [
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    `- node ${process.version}; ${kinds.map((k) => `${k.label} ${k.version()}`).join('; ')}`,
  ];
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}

/** Ingests the data set into a fresh instance at one concurrency, checks it, and measures the disk when asked; the data dir stays. */
async function ingestOnce(kind: SystemKind, dataset: Dataset, concurrency: number, dataDir: string, measureDisk: boolean): Promise<{ row: IngestRow; disk: DiskRow | undefined }> {
  const system = await kind.start(dataDir);
  try {
    const connections = dataset.connections(concurrency);
    const cpu0 = cpuSeconds(system.pid);
    const split = sampleRssSplit(system.pid);
    const r = await replay(connections, system.baseUrl + system.writePath, {
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      phaseTimeoutMs: 60_000 + (PHASE_MS_PER_MILLION * dataset.samples) / 1e6,
    });
    const cpu = cpuSeconds(system.pid) - cpu0;
    const rss = peakRssBytes(system.pid);
    const rssSplit = split.stop();
    await verifyIngested(system.baseUrl, dataset.expected, VERIFY_TIMEOUT_MS);
    const row: IngestRow = {
      size: dataset.size,
      system: kind.label,
      name: kind.name,
      concurrency,
      samples: r.samples,
      seconds: r.seconds,
      cpuSecondsPerMillion: cpu / (r.samples / 1e6),
      peakRssBytes: rss,
      peakAnonBytes: rssSplit.anonBytes,
      peakFileBytes: rssSplit.fileBytes,
      p50Ms: quantile(r.latenciesMs, 0.5),
      p99Ms: quantile(r.latenciesMs, 0.99),
      retries: r.retries,
    };
    log(`${kind.label} c=${concurrency}: ${Math.round(r.samples / r.seconds).toLocaleString('en-US')} samples/s, ${row.cpuSecondsPerMillion.toFixed(2)} CPU-s/1M, peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB (anon ${(rssSplit.anonBytes / 2 ** 20).toFixed(0)}, file ${(rssSplit.fileBytes / 2 ** 20).toFixed(0)})${r.retries > 0 ? `, ${r.retries} retries` : ''}`);
    let disk: DiskRow | undefined;
    if (measureDisk) {
      const d = await system.flushAndMeasureDisk();
      disk = { size: dataset.size, system: kind.label, samples: r.samples, bytes: d.bytes, what: d.what, also: d.also };
      log(`${kind.label}: ${(d.bytes / r.samples).toFixed(2)} bytes/sample on disk (${d.what})`);
    }
    return { row, disk };
  } catch (err) {
    log(`${kind.label} failed; the end of its log:\n${system.log().slice(-2000)}`);
    throw err;
  } finally {
    await system.stop();
  }
}

async function runQueries(kinds: readonly SystemKind[], dirs: ReadonlyMap<string, string>, dataset: Dataset, reps: number, queries: readonly BenchQuery[]): Promise<QueryReport> {
  const running: RunningSystem[] = [];
  try {
    for (const kind of kinds) {
      const dir = dirs.get(kind.name);
      if (dir !== undefined) running.push(await kind.start(dir));
    }
    const targets: QueryTarget[] = running.map((s) => ({ name: s.name, baseUrl: s.baseUrl, pid: s.pid }));
    for (const s of running) await verifyIngested(s.baseUrl, dataset.expected, VERIFY_TIMEOUT_MS);
    const startMs = dataset.options.startMs!;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the query benchmark took over ${QUERY_PHASE_TIMEOUT_MS / 60_000} min`)), QUERY_PHASE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([benchmarkQueries(targets, { dataStartMs: startMs, dataEndMs: dataset.expected.lastSampleMs, reps, hostsInData: dataset.size.hosts, queries, log }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const s of running) await s.stop();
  }
}

/** The queries asked at every size: every n-th of the list. */
function scalingQueries(options: BenchOptions): BenchQuery[] {
  return BENCH_QUERIES.filter((_, i) => i % options.scalingQueryStride === 0);
}

async function runSize(options: BenchOptions, size: DatasetSize, isMainSize: boolean, kinds: readonly { kind: SystemKind; queryTarget: boolean }[], root: string, results: Results): Promise<void> {
  const t0 = Date.now();
  const maxConcurrency = Math.max(...options.concurrencies);
  const dataset = buildDataset(size, maxConcurrency);
  log(`${describeSize(size)}: ${dataset.expected.series.toLocaleString('en-US')} series, ${dataset.samples.toLocaleString('en-US')} samples, ${(dataset.compressedBytes / 2 ** 20).toFixed(0)} MiB of requests encoded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const queryDirs = new Map<string, string>();
  const everything = isMainSize || options.fullScaling;
  const concurrencies = everything ? options.concurrencies : [maxConcurrency];
  const sizeDir = path.join(root, `${size.hosts}x${size.hours}`);
  try {
    // Outside the main size, Metricstor runs with its first head policy only (the one queried).
    for (const { kind, queryTarget } of kinds.filter((k) => everything || k.queryTarget)) {
      for (const [i, concurrency] of concurrencies.entries()) {
        const last = i === concurrencies.length - 1;
        const dir = path.join(sizeDir, `${kind.name}-c${concurrency}`);
        const { row, disk } = await ingestOnce(kind, dataset, concurrency, dir, last);
        results.ingest.push(row);
        if (disk !== undefined) results.disk.push(disk);
        if (last && queryTarget && options.queries) queryDirs.set(kind.name, dir);
        else await rm(dir, { recursive: true, force: true });
      }
    }
    if (options.queries && queryDirs.size > 0) {
      log(`${describeSize(size)}: query benchmark against ${[...queryDirs.keys()].join(', ')}`);
      const report = await runQueries(
        kinds.map((k) => k.kind).filter((k) => queryDirs.has(k.name)),
        queryDirs,
        dataset,
        options.queryReps,
        everything ? BENCH_QUERIES : scalingQueries(options),
      );
      // The scaling rows summarise the same queries at every size.
      const scalingSet = new Set(scalingQueries(options).map((q) => q.query));
      const scalingReport: QueryReport = { ...report, measurements: report.measurements.filter((m) => scalingSet.has(m.query)) };
      for (const system of report.systems) {
        for (const kind of QUERY_KINDS) {
          const s = summarise(scalingReport, system, kind);
          if (s.queries > 0) results.queryLatency.push({ size, system, kind, p50Ms: s.p50Ms, p95Ms: s.p95Ms, failed: s.failed });
        }
      }
      if (isMainSize) results.queryReport.push({ size, markdown: renderQueryReport(report, 'prometheus') });
    }
  } finally {
    await rm(sizeDir, { recursive: true, force: true });
  }
}

/** Sum of a counter's samples over all its label sets in a /metrics exposition. */
function counterSum(exposition: string, name: string): number {
  let sum = 0;
  for (const line of exposition.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function kvCalls(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
  return counterSum(await res.text(), 'metricstor_kv_call_duration_seconds_count');
}

async function runFlareDb(size: DatasetSize, concurrency: number, root: string): Promise<FlareDbRow> {
  const dataset = buildDataset(size, concurrency);
  const dir = path.join(root, 'flaredb');
  const flaredb = await startFlareDbDev(path.join(dir, 'flaredb'));
  try {
    const system = await metricstor({ head: 'buffered', flaredbAddress: flaredb.address }).start(path.join(dir, 'metricstor'));
    try {
      const cpu0 = cpuSeconds(system.pid);
      const dbCpu0 = cpuSeconds(flaredb.pid);
      const calls0 = await kvCalls(system.baseUrl);
      const r = await replay(dataset.connections(concurrency), system.baseUrl + system.writePath, {
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        phaseTimeoutMs: 60_000 + (20 * PHASE_MS_PER_MILLION * dataset.samples) / 1e6,
      });
      const cpu = cpuSeconds(system.pid) - cpu0;
      const dbCpu = cpuSeconds(flaredb.pid) - dbCpu0;
      const calls = (await kvCalls(system.baseUrl)) - calls0;
      await verifyIngested(system.baseUrl, dataset.expected, VERIFY_TIMEOUT_MS);
      const row: FlareDbRow = {
        size,
        concurrency,
        samples: r.samples,
        seconds: r.seconds,
        gatewayCpuSecondsPerMillion: cpu / (r.samples / 1e6),
        flaredbCpuSecondsPerMillion: dbCpu / (r.samples / 1e6),
        kvCallsPerSample: calls / r.samples,
        p50Ms: quantile(r.latenciesMs, 0.5),
        p99Ms: quantile(r.latenciesMs, 0.99),
      };
      log(`flaredb c=${concurrency}: ${Math.round(r.samples / r.seconds).toLocaleString('en-US')} samples/s, ${row.kvCallsPerSample.toFixed(3)} KV calls per sample`);
      return row;
    } finally {
      await system.stop();
    }
  } finally {
    await flaredb.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function render(options: BenchOptions, header: readonly string[], loadEnd: string, results: Results): string {
  const baseline = results.ingest.find((r) => r.system.startsWith('metricstor'))?.system ?? '';
  const parts = [
    ...header,
    `- load average (1, 5, 15 min) at the end: ${loadEnd}`,
    '',
    '### Ingest',
    '',
    'Remote write 1.0 over HTTP keep-alive from a client in another process; samples/s from the first request to the last answer;',
    'CPU seconds (user + system, children included) and peak RSS (VmHWM) of the server process over the replay, from /proc; anon and file: the largest RssAnon (heap) and RssFile (mapped files, binaries included) seen, sampled every 250 ms.',
    'Each row starts the system on a fresh data dir, and is checked afterwards: every series and every sample of one metric are there.',
    '',
    renderIngestTable(results.ingest),
    '',
    `Ratios to ${baseline} at the same size and concurrency:`,
    '',
    renderIngestRatios(results.ingest, baseline),
    '',
    '### Disk',
    '',
    `After the ingest at concurrency ${Math.max(...options.concurrencies)}.`,
    '',
    renderDiskTable(results.disk, baseline),
  ];
  if (options.sizes.length > 1) {
    parts.push(
      '',
      '### Scaling',
      '',
      `Ingest at concurrency ${Math.max(...options.concurrencies)}, and query latency (p50 / p95 over the same ${scalingQueries(options).length} queries, every ${options.scalingQueryStride === 1 ? '' : `${options.scalingQueryStride}th `}query of the list, at every size).`,
      '',
      renderScalingTable(results.ingest, results.disk, results.queryLatency, Math.max(...options.concurrencies)),
    );
  }
  for (const q of results.queryReport) parts.push('', `### Queries, ${describeSize(q.size)}`, '', q.markdown.trim());
  if (results.flaredb.length > 0) {
    parts.push('', '### FlareDB backend', '', 'Metricstor (buffered head) on a flaredb-dev process (no fsync); KV calls counted by the server (metricstor_kv_call_duration_seconds_count).', '', renderFlareDbTable(results.flaredb));
  }
  if (results.skipped.length > 0) parts.push('', `Skipped: ${results.skipped.join('; ')}.`);
  if (options.quick) parts.push('', '(quick mode: a smoke run, not figures to compare)');
  return parts.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const options = parseOptions(args);
  const command = ['npm run bench', ...(args.length > 0 ? ['--', ...args] : [])].join(' ');
  const maxConcurrency = Math.max(...options.concurrencies);
  for (const c of options.concurrencies) if (maxConcurrency % c !== 0) throw new Error(`--concurrency: ${c} does not divide ${maxConcurrency}`);

  const results: Results = { ingest: [], disk: [], flaredb: [], queryReport: [], queryLatency: [], skipped: [] };
  const kinds = systemKinds(options).filter(({ kind }) => {
    const why = kind.unavailable();
    if (why === undefined) return true;
    if (process.env['CI'] === 'true') throw new Error(`${kind.label} cannot run: ${why}`);
    log(`SKIPPING ${kind.label}: ${why}`);
    results.skipped.push(`${kind.label} (${why})`);
    return false;
  });
  const loadStart = loadAverage();
  const header = [
    `- command: \`${command}\``,
    `- date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    ...(await machineLines(kinds.map((k) => k.kind))),
    `- data: ${options.sizes.map((s) => `${describeSize(s)} (${samplesOf(s).toLocaleString('en-US')} samples)`).join(', ')}; node_exporter-like, 75 series per host, 15 s interval, 2,000 samples per request; concurrency ${options.concurrencies.join(' and ')}`,
    `- load average (1, 5, 15 min) at the start: ${loadStart}`,
  ];

  const root = await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-compare-'));
  // Also on an interrupt: managed-process kills the servers and exits, and exit handlers run.
  process.once('exit', () => {
    try {
      rmSync(root, { recursive: true, force: true });
    } catch {
      // a server killed a moment ago may still be writing; the directory is in the system's temp dir
    }
  });
  // The middle size gets the full query report; the others only their row of the scaling table.
  const mainSize = options.sizes[Math.floor((options.sizes.length - 1) / 2)]!;
  log(`estimated run time on an idle machine: about ${Math.ceil(estimateMinutes(options, kinds, mainSize))} min`);
  try {
    for (const size of options.sizes) await runSize(options, size, size === mainSize, kinds, root, results);
    if (options.flaredb !== null && options.systems.includes('metricstor')) results.flaredb.push(await runFlareDb(options.flaredb, maxConcurrency, root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }

  const markdown = render(options, header, loadAverage(), results);
  console.log(markdown);
  if (options.write) {
    await writeFile(DOC, replaceSection(await readFile(DOC, 'utf8'), markdown));
    log(`wrote the section of ${path.relative(process.cwd(), DOC)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
