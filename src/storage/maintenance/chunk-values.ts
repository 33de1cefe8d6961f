import { MAX_SAMPLES_PER_BLOCK, encodeBlock } from '../../chunk/block.js';
import { XorAppender } from '../../chunk/index.js';
import { decodeChunkData } from '../../chunk/stored.js';
import { CHUNK_ENCODING_BLOCK, CHUNK_ENCODING_XOR, chunkValueData, decodeChunkHeader, encodeChunkValue } from '../keys.js';
import type { SampleRun } from '../merge.js';

/** The samples of a stored chunk value (header + encoded samples). Throws on an unknown encoding or corrupt bytes. */
export function decodeChunkSamples(value: Uint8Array): SampleRun {
  return decodeChunkData(decodeChunkHeader(value).encoding, chunkValueData(value));
}

/** One chunk value holding samples [from, to) of a run. */
export function encodeChunkSamples(run: SampleRun, from: number, to: number, closed: boolean): Uint8Array {
  const appender = new XorAppender();
  for (let i = from; i < to; i++) appender.appendFrom(run.values, i, run.timestamps[i]!);
  return encodeChunkValue(
    { encoding: CHUNK_ENCODING_XOR, closed, minTimeMs: run.timestamps[from]!, maxTimeMs: run.timestamps[to - 1]! },
    appender.bytes(),
  );
}

/**
 * A run (one series, one closed window) as compacted block values: one, unless the window holds
 * more samples than a block can (a scrape interval under about 110 ms).
 */
export function encodeBlocks(run: SampleRun): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = run.timestamps.length;
  for (let from = 0; from < n; from += MAX_SAMPLES_PER_BLOCK) {
    const to = Math.min(n, from + MAX_SAMPLES_PER_BLOCK);
    const data = encodeBlock(run.timestamps.subarray(from, to), run.values.subarray(from, to));
    out.push(
      encodeChunkValue({ encoding: CHUNK_ENCODING_BLOCK, closed: true, minTimeMs: run.timestamps[from]!, maxTimeMs: run.timestamps[to - 1]! }, data),
    );
  }
  return out;
}
