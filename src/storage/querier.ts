import { decodeXorChunk } from '../chunk/index.js';
import { MetricstorError } from '../errors.js';
import type { KvStore } from '../kv/kv.js';
import type { SelectParams, SeriesData } from './types.js';
import { ChunkCache } from './chunk-cache.js';
import type { Head } from './head.js';
import { CHUNK_ENCODING_XOR, chunkScanRange, chunkValueData, decodeChunkHeader } from './keys.js';
import { scanEach } from './kv-scan.js';
import type { SampleRun } from './merge.js';
import { clip, mergeRuns } from './merge.js';
import type { SeriesIndex } from './series-index.js';

/** Series read from the KV at once; enough to hide latency without flooding the KV. */
const READ_CONCURRENCY = 16;

export interface QuerierDeps {
  readonly kv: KvStore;
  readonly index: SeriesIndex;
  readonly head: Head;
  readonly cache: ChunkCache;
}

/**
 * Every series matching the selector with its samples in [startMs, endMs]: postings of the days
 * in range → ids → labels → one chunk scan per series, merged with this node's chunks in memory.
 * Series without samples in range are left out.
 */
export async function selectSeries(deps: QuerierDeps, params: SelectParams): Promise<SeriesData[]> {
  const { startMs, endMs } = params;
  if (!(startMs <= endMs)) return [];
  const selected = await deps.index.select(params.matchers, startMs, endMs);
  const runs: (SampleRun | null)[] = new Array(selected.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < selected.length) {
      const i = next++;
      runs[i] = await readSamples(deps, selected[i]!.sid, startMs, endMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, selected.length) }, worker));
  const out: SeriesData[] = [];
  selected.forEach((s, i) => {
    const run = runs[i];
    if (run !== null && run !== undefined && run.timestamps.length > 0) {
      out.push({ labels: s.labels, timestamps: run.timestamps, values: run.values });
    }
  });
  return out;
}

/** The merged samples of one series in [startMs, endMs], in fresh arrays the caller owns. */
export async function readSamples(deps: QuerierDeps, sid: bigint, startMs: number, endMs: number): Promise<SampleRun> {
  const runs: SampleRun[] = [];
  // Memory first: a chunk that leaves the head after this point is already in the KV.
  const inMemory = new Set<string>();
  const sh = deps.head.get(sid);
  if (sh !== undefined) {
    for (const c of sh.chunks) {
      inMemory.add(ChunkCache.keyOf(c.key));
      if (c.numSamples > 0 && c.lastT >= startMs && c.firstT <= endMs) runs.push(decodeXorChunk(c.appender.bytes()));
    }
  }
  const range = chunkScanRange(sid, startMs, endMs);
  await scanEach(deps.kv, range.start, range.end, (e) => {
    const header = decodeChunkHeader(e.value);
    if (header.maxTimeMs < startMs || header.minTimeMs > endMs) return;
    const key = ChunkCache.keyOf(e.key);
    if (inMemory.has(key)) return;
    if (header.closed) {
      const cached = deps.cache.get(key);
      if (cached !== undefined) {
        runs.push(cached);
        return;
      }
    }
    if (header.encoding !== CHUNK_ENCODING_XOR) {
      throw new MetricstorError('internal', `chunk encoding ${header.encoding} is unknown`);
    }
    const decoded = decodeXorChunk(chunkValueData(e.value));
    if (header.closed) deps.cache.set(key, decoded);
    runs.push(decoded);
  });
  // mergeRuns returns new arrays, so no view of a cached chunk is ever handed out
  return mergeRuns(runs.map((r) => clip(r, startMs, endMs)));
}
