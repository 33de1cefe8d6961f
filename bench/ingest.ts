/**
 * Ingestion benchmark (docs/benchmarks.md, "Ingestion").
 *
 *   npm run bench:ingest              full run (about 2–3 minutes on 2 cores)
 *   npm run bench:ingest -- --quick   a small smoke run
 *   npm run bench:ingest -- --head buffered   end to end with one head policy only (default: both)
 *   npm run bench:ingest -- --backend flaredb   the server on a flaredb-dev process (strong, KvCas);
 *                                  flaredb-eventual for KvRaw; adds KV RPCs per sample. Default embedded.
 *   npm run bench:ingest -- --hosts=200 --minutes=60   another dataset size (default 40 hosts, 60 min;
 *                                  200 hosts is issue 9's 15,000 series)
 *   npm run bench:ingest -- --concurrency=16   one concurrency only (default: 4 and 16)
 *   BENCH_PROFILE_DIR=dir npm run bench:ingest -- --quick   also writes a CPU profile of each server
 *   BENCH_MEMORY=1 npm run bench:ingest   each server also prints its process.memoryUsage() on stop
 *
 * Requests are pre-generated from bench/data/node-exporter.ts the way Prometheus sends them: one
 * sample per TimeSeries entry, 2,000 samples per request, series split into one shard per
 * connection so each series arrives in time order. Then:
 *  (a) the decode step alone (snappy + wire walk + validation), in samples per CPU-second (CPU
 *      time, not wall time, so other load on the machine does not distort it), with the label
 *      cache warm and cold, next to the generated ts-proto decoder for comparison;
 *  (b) end-to-end HTTP remote write at concurrency 4 and 16 against a child process running the
 *      ingest handler with the real Storage over the embedded KV: samples/s, server CPU-seconds
 *      per million samples (from /proc/<pid>/stat), server peak RSS (VmHWM);
 *  (c) range query latency over what each run wrote, on a fresh Storage over the same KV.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { WriteRequest } from '../src/generated/prompb/prometheus/remote.js';
import { remoteWriteHandler } from '../src/ingest/http.js';
import { LabelCache } from '../src/ingest/label-cache.js';
import { ingestLimits } from '../src/ingest/limits.js';
import { decodeWriteRequestV1 } from '../src/ingest/remote-write/decode-v1.js';
import { decodeSnappyBlock } from '../src/ingest/remote-write/snappy-block.js';
import { validateWrite } from '../src/ingest/validate.js';
import { WriteQueue } from '../src/ingest/write-queue.js';
import { Storage } from '../src/storage/index.js';
import type { HeadFlush } from '../src/storage/index.js';
import type { NodeExporterOptions } from './data/node-exporter.js';
import { cpuSeconds } from './compare/proc-stats.js';
import { replay, type ReplayLimits } from './compare/ingest-runner.js';
import { buildRequests, SAMPLES_PER_REQUEST, type Workload } from './remote-write-requests.js';
import { benchBackend, kvRpcs, openBenchKv, queryLatency, startFlareDbDev, type BenchBackend, type QueryTiming } from './flaredb-backend.js';

/** The head policies the end-to-end part runs (`--head <name>` picks one). */
const HEAD_POLICIES = { 'write-through': 'write-through', buffered: { intervalMs: 10_000 } } as const satisfies Record<string, HeadFlush>;
type HeadPolicyName = keyof typeof HEAD_POLICIES;

function headPolicyName(arg: string | undefined): HeadPolicyName {
  if (arg === 'write-through' || arg === 'buffered') return arg;
  throw new Error(`--head takes write-through or buffered, not ${arg ?? 'nothing'}`);
}
const REPLAY_LIMITS: ReplayLimits = { requestTimeoutMs: 60_000, phaseTimeoutMs: 30 * 60_000 };
const limits = ingestLimits();

/** CPU seconds (user + system) of this process spent in fn; robust against a busy machine. */
function cpuTime(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

interface DecodeFigures {
  readonly cached: number;
  readonly uncached: number;
  readonly generated: number;
  readonly bytesPerSample: number;
}

/** Samples per CPU-second of the decode step, best of `passes`. */
function decodeBench(bodies: Buffer[], passes: number): DecodeFigures {
  let samples = 0;
  let compressedBytes = 0;
  for (const b of bodies) compressedBytes += b.length;
  const ours = (cache: LabelCache | undefined): number => {
    let best = Infinity;
    for (let p = 0; p < passes; p++) {
      samples = 0;
      const seconds = cpuTime(() => {
        for (const body of bodies) {
          const decoded = decodeWriteRequestV1(decodeSnappyBlock(body, limits.maxDecodedBytes), cache);
          validateWrite(decoded, limits, cache);
          samples += decoded.samples.length;
        }
      });
      best = Math.min(best, seconds);
    }
    return samples / best;
  };
  // The handler keeps one label cache for its lifetime, so after the first scrape it is warm.
  const cache = new LabelCache();
  const cached = ours(cache);
  const uncached = ours(undefined);
  let bestGenerated = Infinity;
  for (let p = 0; p < passes; p++) {
    const seconds = cpuTime(() => {
      for (const body of bodies) WriteRequest.decode(decodeSnappyBlock(body, limits.maxDecodedBytes));
    });
    bestGenerated = Math.min(bestGenerated, seconds);
  }
  return { cached, uncached, generated: samples / bestGenerated, bytesPerSample: compressedBytes / samples };
}

/** A `Name: N kB` line of /proc/<pid>/status, in MiB. */
function statusMiB(pid: number, field: 'VmHWM' | 'RssAnon' | 'RssFile'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function startServerProcess(dir: string, head: HeadPolicyName, backend: BenchBackend, flaredbAddress: string): Promise<{ child: ChildProcess; port: number }> {
  const profileDir = process.env['BENCH_PROFILE_DIR'];
  const nodeArgs = profileDir ? [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', dir, head, backend, flaredbAddress], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  return { child, port };
}

interface EndToEnd {
  concurrency: number;
  samples: number;
  seconds: number;
  cpuSecondsPerMillion: number;
  peakRssMiB: number;
  /** RSS at the end of the ingest: anonymous (heap, buffers) and file-backed (LMDB's map, code). */
  rssAnonMiB: number;
  rssFileMiB: number;
  p50Ms: number;
  p99Ms: number;
  /** FlareDB backends: RPCs the server sent per sample (index, chunks, write-ahead records, leases). */
  rpcsPerSample: number | undefined;
  queries: QueryTiming[];
}

async function endToEnd(shards: Workload[], head: HeadPolicyName, backend: BenchBackend, range: { startMs: number; endMs: number }): Promise<EndToEnd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-ingest-'));
  const flaredb = backend === 'embedded' ? undefined : await startFlareDbDev(dir);
  const { child, port } = await startServerProcess(dir, head, backend, flaredb?.address ?? '');
  let rpcs: number | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    const m = /kv-rpcs (\d+)/.exec(d.toString());
    if (m) rpcs = Number(m[1]);
  });
  let exited = false;
  try {
    const cpu0 = cpuSeconds(child.pid!);
    const { seconds, latenciesMs } = await replay(shards, `http://127.0.0.1:${port}/api/v1/write`, REPLAY_LIMITS);
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const samples = shards.reduce((n, s) => n + s.samples, 0);
    const peakRss = statusMiB(child.pid!, 'VmHWM');
    const rssAnon = statusMiB(child.pid!, 'RssAnon');
    const rssFile = statusMiB(child.pid!, 'RssFile');
    await stopChild(child);
    exited = true;
    // Queries run on a fresh storage in this process, over what the server left in the KV.
    const kv = await openBenchKv(backend, dir, flaredb?.address ?? '');
    let queries: QueryTiming[];
    try {
      queries = await queryLatency(kv, range.startMs, range.endMs);
    } finally {
      await kv.close();
    }
    return {
      concurrency: shards.length,
      samples,
      seconds,
      cpuSecondsPerMillion: cpu / (samples / 1e6),
      peakRssMiB: peakRss,
      rssAnonMiB: rssAnon,
      rssFileMiB: rssFile,
      p50Ms: latenciesMs[Math.floor(latenciesMs.length * 0.5)]!,
      p99Ms: latenciesMs[Math.floor(latenciesMs.length * 0.99)]!,
      rpcsPerSample: rpcs === undefined ? undefined : rpcs / samples,
      queries,
    };
  } finally {
    if (!exited) await stopChild(child);
    await flaredb?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // 'close' comes after the last stdout data (the kv-rpcs line), 'exit' may come before it.
  const exited = new Promise((r) => child.once('close', r));
  child.kill('SIGTERM');
  await exited;
}

/** The child: the ingest handler with the real storage over the embedded KV in `dir`. */
async function serve(dir: string, head: HeadPolicyName, backend: BenchBackend, flaredbAddress: string): Promise<void> {
  const kv = await openBenchKv(backend, dir, flaredbAddress);
  const storage = await Storage.open(kv, { headFlush: HEAD_POLICIES[head] });
  const app = new Koa();
  const write = remoteWriteHandler({ storage, limits, queue: new WriteQueue() });
  app.use(async (ctx, next) => {
    if (ctx.path === '/api/v1/write' && ctx.method === 'POST') await write(ctx, next);
    else ctx.status = 404;
  });
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  process.stdout.write(`listening on ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
  process.once('SIGTERM', () => {
    if (process.env['BENCH_MEMORY']) process.stderr.write(`memory ${JSON.stringify(process.memoryUsage())}\n`);
    server.closeAllConnections();
    server.close(() => {
      void storage
        .close()
        .then(() => {
          const rpcs = kvRpcs(kv);
          if (rpcs !== undefined) process.stdout.write(`kv-rpcs ${rpcs}\n`);
          return kv.close();
        })
        .finally(() => process.exit(0));
    });
  });
}

/** The positive integer of `--name=N`, if given. */
function numberFlag(args: readonly string[], name: string): number | undefined {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return undefined;
  const n = Number(arg.slice(name.length + 3));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a positive integer, not ${arg}`);
  return n;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--serve') return serve(args[1]!, headPolicyName(args[2]), benchBackend(args[3]), args[4] ?? '');
  const backendArg = args.indexOf('--backend');
  const backend = backendArg >= 0 ? benchBackend(args[backendArg + 1]) : 'embedded';
  const quick = args.includes('--quick');
  const headArg = args.indexOf('--head');
  const heads: HeadPolicyName[] = headArg >= 0 ? [headPolicyName(args[headArg + 1])] : ['write-through', 'buffered'];
  const data: NodeExporterOptions = {
    hosts: numberFlag(args, 'hosts') ?? (quick ? 20 : 40),
    durationMs: (numberFlag(args, 'minutes') ?? (quick ? 30 : 60)) * 60_000,
  };
  const oneConcurrency = numberFlag(args, 'concurrency');
  const concurrencies = oneConcurrency !== undefined ? [oneConcurrency] : [4, 16];
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(0);

  console.log(`# ingest benchmark ${new Date().toISOString()}`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${mib(os.totalmem())} MiB, node ${process.version}`);
  console.log(`data: node-exporter hosts=${data.hosts} duration=${data.durationMs / 60_000} min interval=15 s, ${SAMPLES_PER_REQUEST} samples per request`);

  const t = Date.now();
  const byConcurrency = new Map<number, Workload[]>();
  for (const c of concurrencies) byConcurrency.set(c, buildRequests(data, c));
  const single = byConcurrency.get(concurrencies[0]!)!.flatMap((w) => w.bodies);
  console.log(`pre-generated ${single.length} requests per concurrency in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const d = decodeBench(single, 2);
  const rate = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log('\n(a) decode step (snappy + decode + validation), samples per CPU-second, best of passes');
  console.log(`| decoder | samples per CPU-second |\n|---|---|`);
  console.log(`| ours, label cache warm (steady state: series seen before) | ${rate(d.cached)} |`);
  console.log(`| ours, no label cache (every series new) | ${rate(d.uncached)} |`);
  console.log(`| ts-proto generated WriteRequest.decode (decode only, no validation) | ${rate(d.generated)} |`);
  console.log(`compressed request size: ${d.bytesPerSample.toFixed(1)} bytes per sample`);

  const kvName = backend === 'embedded' ? 'EmbeddedKv (fsync)' : `FlareDbKv (${backend === 'flaredb' ? 'strong, KvCas' : 'eventual, KvRaw'}) on a flaredb-dev process (no fsync)`;
  console.log(`\n(b) end-to-end HTTP remote write, server = handler + Storage over ${kvName}`);
  console.log('| head policy | concurrency | samples | seconds | samples/s | server CPU-s per 1M samples | server peak RSS MiB | RSS anon / file MiB at end | p50 ms | p99 ms | KV RPCs per sample |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  const range = { startMs: Date.UTC(2026, 0, 1), endMs: Date.UTC(2026, 0, 1) + data.durationMs };
  const queryRows: string[] = [];
  for (const head of heads) for (const [c, shards] of byConcurrency) {
    const r = await endToEnd(shards, head, backend, range);
    console.log(
      `| ${head} | ${c} | ${r.samples.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} | ${Math.round(r.samples / r.seconds).toLocaleString('en-US')} | ${r.cpuSecondsPerMillion.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} | ${r.rssAnonMiB.toFixed(0)} / ${r.rssFileMiB.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.rpcsPerSample === undefined ? '–' : r.rpcsPerSample.toFixed(3)} |`,
    );
    for (const q of r.queries) queryRows.push(`| ${head} | ${c} | \`${q.query}\` | ${q.coldMs.toFixed(1)} | ${q.warmMs.toFixed(1)} |`);
  }
  console.log(`\n(c) range query latency over the written data (whole range, step 60 s), fresh storage over ${kvName}`);
  console.log('| head policy | concurrency | query | first run ms | median of next 4 ms |\n|---|---|---|---|---|');
  for (const row of queryRows) console.log(row);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
