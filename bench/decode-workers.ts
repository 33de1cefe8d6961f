/**
 * The remote write decode step (snappy + protobuf walk + labels + validation) on the event loop
 * and through decode worker threads, on the same pre-encoded node_exporter-like requests
 * (docs/benchmarks.md, "Ingestion: decode workers").
 *
 *   npx tsx bench/decode-workers.ts [--hosts=200] [--minutes=60] [--workers=2] [--in-flight=4] [--passes=3]
 *
 * For each pass, alternating the two ways, it reports CPU-seconds per million samples of the
 * main thread (/proc/<pid>/task/<pid>/stat) and of the whole process (all threads), with the
 * label cache warm as in steady state. CPU time, not wall time: the machine may be busy.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { decodeRemoteWriteBody } from '../src/ingest/decode-workers/decode-body.js';
import { DecodePool } from '../src/ingest/decode-workers/pool.js';
import { LabelCache } from '../src/ingest/label-cache.js';
import { ingestLimits } from '../src/ingest/limits.js';
import { validateWrite } from '../src/ingest/validate.js';
import { parseCpuSeconds } from './compare/proc-stats.js';
import { buildRequests } from './remote-write-requests.js';

const limits = ingestLimits();

function flag(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
}

function mainThreadCpuSeconds(): number {
  return parseCpuSeconds(readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8'));
}

function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface PassFigures {
  readonly mainPerMillion: number;
  readonly processPerMillion: number;
}

/** Decodes and validates every body, at most `inFlight` at a time, as the write queue would. */
async function pass(bodies: readonly Buffer[], cache: LabelCache, pool: DecodePool | undefined, inFlight: number): Promise<PassFigures> {
  const main0 = mainThreadCpuSeconds();
  const proc0 = processCpuSeconds();
  let samples = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < bodies.length) {
      // A copy, as a request body is read fresh from its socket (a worker may take its memory).
      const body = Uint8Array.from(bodies[next++]!);
      const { write: decoded, release } = await decodeRemoteWriteBody('1.0', body, limits.maxDecodedBytes, cache, pool);
      validateWrite(decoded, limits, cache);
      samples += decoded.samples.length;
      release();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const millions = samples / 1e6;
  return { mainPerMillion: (mainThreadCpuSeconds() - main0) / millions, processPerMillion: (processCpuSeconds() - proc0) / millions };
}

async function main(): Promise<void> {
  const hosts = flag('hosts', 200);
  const minutes = flag('minutes', 60);
  const workers = flag('workers', 2);
  const inFlight = flag('in-flight', 4);
  const passes = flag('passes', 3);
  const shards = buildRequests({ hosts, durationMs: minutes * 60_000 }, inFlight);
  const bodies = shards.flatMap((w) => w.bodies);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${bodies.length} requests (${hosts} hosts × ${minutes} min), ${inFlight} in flight, ${workers} decode workers`);
  const pool = new DecodePool(workers);
  try {
    const caches = { main: new LabelCache(), workers: new LabelCache() };
    // Warm the label caches (steady state: every series seen before) and the code.
    await pass(bodies, caches.main, undefined, inFlight);
    await pass(bodies, caches.workers, pool, inFlight);
    console.log('| pass | way | main thread CPU-s per 1M samples | process CPU-s per 1M samples |\n|---|---|---|---|');
    for (let p = 1; p <= passes; p++) {
      for (const [way, cache, usePool] of [
        ['event loop', caches.main, undefined],
        [`${workers} workers`, caches.workers, pool],
      ] as const) {
        const f = await pass(bodies, cache, usePool, inFlight);
        console.log(`| ${p} | ${way} | ${f.mainPerMillion.toFixed(3)} | ${f.processPerMillion.toFixed(3)} |`);
      }
    }
  } finally {
    await pool.close();
  }
}

await main();
