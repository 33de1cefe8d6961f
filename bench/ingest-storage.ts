/**
 * Storage-only ingest benchmark (docs/benchmarks.md, "Ingestion"): `Storage.append` over
 * `EmbeddedKv`, without HTTP or decoding, for the profile of the storage half of the write path.
 *
 *   npx tsx bench/ingest-storage.ts [write-through|buffered] [in-flight calls] [hosts] [kv-wal|file-wal]
 *
 * The data is bench/ingest.ts's: node_exporter-like series, one hour at 15 s, appended as ingest
 * hands them over (2,000 single-sample series per call, views of one buffer per call, series
 * sharded over the calls in flight so each arrives in time order). Reports samples per CPU-second
 * of this process (user + system, LMDB's writer thread included) and per wall second, and the
 * size of the LMDB file once the appends are done. `file-wal` keeps the buffered head's write-ahead
 * records in segment files, as the server does with the embedded backend; `kv-wal` (the default)
 * in the KV.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedKv } from '../src/kv/embedded.js';
import { Storage } from '../src/storage/index.js';
import type { AppendBatch, SeriesAppend } from '../src/storage/index.js';
import { generateSeriesSlices } from './data/node-exporter.js';
import { appendBatchOf } from '../src/storage/append-batch.js';

const SAMPLES_PER_CALL = 2000;

function buildCalls(hosts: number, inFlight: number): { shards: AppendBatch[][]; samples: number } {
  const shards: AppendBatch[][] = Array.from({ length: inFlight }, () => []);
  const pending: { labels: SeriesAppend['labels']; t: number; v: number }[][] = Array.from({ length: inFlight }, () => []);
  let samples = 0;
  const flush = (k: number): void => {
    const batch = pending[k]!;
    if (batch.length === 0) return;
    // one buffer per call, timestamps then values, as the ingest decoder lays them out
    const column = new Float64Array(batch.length * 2);
    const call: SeriesAppend[] = batch.map((s, i) => {
      column[i] = s.t;
      column[batch.length + i] = s.v;
      return { labels: s.labels, timestamps: column.subarray(i, i + 1), values: column.subarray(batch.length + i, batch.length + i + 1) };
    });
    shards[k]!.push(appendBatchOf(call));
    pending[k] = [];
  };
  for (const slice of generateSeriesSlices({ hosts, durationMs: 3_600_000 }, 15_000)) {
    for (let s = 0; s < slice.length; s++) {
      const g = slice[s]!;
      const k = s % inFlight;
      for (let i = 0; i < g.timestamps.length; i++) {
        pending[k]!.push({ labels: g.labels, t: g.timestamps[i]!, v: g.values[i]! });
        samples++;
        if (pending[k]!.length === SAMPLES_PER_CALL) flush(k);
      }
    }
  }
  for (let k = 0; k < inFlight; k++) flush(k);
  return { shards, samples };
}

async function main(): Promise<void> {
  const policy = process.argv[2] ?? 'buffered';
  if (policy !== 'write-through' && policy !== 'buffered') throw new Error(`unknown head policy ${policy}`);
  const inFlight = Number(process.argv[3] ?? 4);
  const hosts = Number(process.argv[4] ?? 40);
  const wal = process.argv[5] ?? 'kv-wal';
  if (wal !== 'kv-wal' && wal !== 'file-wal') throw new Error(`unknown write-ahead log ${wal}`);
  const { shards, samples } = buildCalls(hosts, inFlight);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-ingest-storage-'));
  try {
    const kv = await EmbeddedKv.open(path.join(dir, 'kv'));
    const storage = await Storage.open(kv, {
      headFlush: policy === 'buffered' ? { intervalMs: 10_000 } : 'write-through',
      ...(wal === 'file-wal' ? { walDir: path.join(dir, 'wal') } : {}),
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(shards.map(async (calls) => {
      for (const call of calls) await storage.append(call);
    }));
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    const fileBytes = (await stat(path.join(dir, 'kv', 'data.mdb'))).size;
    const syncs = storage.walCounters?.syncs;
    await storage.close();
    await kv.close();
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    console.log(
      `${policy}, ${wal}, ${inFlight} in flight: ${samples.toLocaleString('en-US')} samples, ` +
        `${Math.round(samples / cpuSeconds).toLocaleString('en-US')} samples per CPU-second, ` +
        `${Math.round(samples / seconds).toLocaleString('en-US')} samples/s, ` +
        `LMDB file ${(fileBytes / 2 ** 20).toFixed(1)} MiB` +
        (syncs === undefined ? '' : `, ${syncs.toLocaleString('en-US')} write-ahead fdatasyncs`),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
