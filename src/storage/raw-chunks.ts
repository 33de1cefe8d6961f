import { XorAppender, decodeXorChunk } from '../chunk/index.js';
import { decodeChunkData } from '../chunk/stored.js';
import type { Labels } from '../model/labels.js';
import { ChunkCache } from './chunk-cache.js';
import { MAX_SAMPLES_PER_CHUNK } from './head.js';
import { CHUNK_ENCODING_XOR, chunkScanRange, chunkValueData, decodeChunkHeader } from './keys.js';
import { scanEach } from './kv-scan.js';
import type { SampleRun } from './merge.js';
import { clip, mergeRuns } from './merge.js';
import type { QuerierDeps } from './querier.js';
import type { SelectParams } from './types.js';

/** One chunk in Prometheus's XOR encoding (sample count header included) with its time bounds. */
export interface RawChunk {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly data: Uint8Array;
}

export interface SeriesChunks {
  readonly labels: Labels;
  /** Sorted by time, never overlapping. */
  readonly chunks: RawChunk[];
}

/**
 * The chunks of every series matching the selector that overlap [startMs, endMs], as Prometheus's
 * TSDB chunk querier hands them to remote read: a stored chunk that lies within the range is
 * returned byte for byte; one that reaches outside it is cut to the range and encoded again. When
 * a series' chunks overlap each other (several writers, out-of-order data), raw chunks could hold
 * one timestamp twice with different values, so that series is merged by the read path's rules,
 * clipped to the range and encoded again into chunks of at most 120 samples.
 */
export async function selectChunks(deps: QuerierDeps, params: SelectParams): Promise<SeriesChunks[]> {
  const { startMs, endMs } = params;
  if (!(startMs <= endMs)) return [];
  const out: SeriesChunks[] = [];
  for (const s of await deps.index.select(params.matchers, startMs, endMs)) {
    const chunks = await seriesChunks(deps, s.sid, startMs, endMs);
    if (chunks.length > 0) out.push({ labels: s.labels, chunks });
  }
  return out;
}

async function seriesChunks(deps: QuerierDeps, sid: bigint, startMs: number, endMs: number): Promise<RawChunk[]> {
  const found: RawChunk[] = [];
  const inMemory = new Set<string>();
  const sh = deps.head.get(sid);
  if (sh !== undefined) {
    for (const c of sh.chunks) {
      inMemory.add(ChunkCache.keyOf(deps.head.readKey(c)));
      if (c.numSamples > 0 && c.lastT >= startMs && c.firstT <= endMs) {
        // a copy: the appender goes on writing into its buffer
        found.push({ minTimeMs: c.firstT, maxTimeMs: c.lastT, data: c.appender.bytes().slice() });
      }
    }
  }
  const range = chunkScanRange(sid, startMs, endMs);
  await scanEach(deps.kv, range.start, range.end, (e) => {
    const header = decodeChunkHeader(e.value);
    if (header.maxTimeMs < startMs || header.minTimeMs > endMs) return;
    if (inMemory.has(ChunkCache.keyOf(e.key))) return;
    // A compacted block is not an XOR chunk: it goes out encoded again as XOR chunks.
    if (header.encoding !== CHUNK_ENCODING_XOR) found.push(...encodeChunks(decodeChunkData(header.encoding, chunkValueData(e.value))));
    else found.push({ minTimeMs: header.minTimeMs, maxTimeMs: header.maxTimeMs, data: chunkValueData(e.value) });
  });
  found.sort((a, b) => a.minTimeMs - b.minTimeMs);
  let disjoint = true;
  for (let i = 1; i < found.length && disjoint; i++) disjoint = found[i]!.minTimeMs > found[i - 1]!.maxTimeMs;
  if (disjoint) return found.flatMap((c) => (c.minTimeMs >= startMs && c.maxTimeMs <= endMs ? [c] : cut(c, startMs, endMs)));
  const runs: SampleRun[] = found.map((c) => clip(decodeXorChunk(c.data), startMs, endMs));
  return encodeChunks(mergeRuns(runs));
}

/** The samples of a chunk within [startMs, endMs], encoded again (none when there are none). */
function cut(c: RawChunk, startMs: number, endMs: number): RawChunk[] {
  return encodeChunks(clip(decodeXorChunk(c.data), startMs, endMs));
}

/** Samples cut into XOR chunks of at most 120 samples, values copied bit for bit. */
export function encodeChunks(run: SampleRun): RawChunk[] {
  const out: RawChunk[] = [];
  const n = run.timestamps.length;
  for (let from = 0; from < n; from += MAX_SAMPLES_PER_CHUNK) {
    const to = Math.min(n, from + MAX_SAMPLES_PER_CHUNK);
    const app = new XorAppender();
    for (let i = from; i < to; i++) app.appendFrom(run.values, i, run.timestamps[i]!);
    out.push({ minTimeMs: run.timestamps[from]!, maxTimeMs: run.timestamps[to - 1]!, data: app.bytes().slice() });
  }
  return out;
}
