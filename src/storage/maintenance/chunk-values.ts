import { XorAppender, decodeXorChunk } from '../../chunk/index.js';
import { MetricstorError } from '../../errors.js';
import { MAX_SAMPLES_PER_CHUNK } from '../head.js';
import { CHUNK_ENCODING_XOR, chunkValueData, decodeChunkHeader, encodeChunkValue } from '../keys.js';
import type { SampleRun } from '../merge.js';

/** The samples of a stored chunk value (header + XOR bytes). Throws on an unknown encoding or corrupt bytes. */
export function decodeChunkSamples(value: Uint8Array): SampleRun {
  const header = decodeChunkHeader(value);
  if (header.encoding !== CHUNK_ENCODING_XOR) {
    throw new MetricstorError('internal', `unknown chunk encoding ${header.encoding}`);
  }
  return decodeXorChunk(chunkValueData(value));
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

/** A run cut into the fewest closed chunk values of at most 120 samples each. */
export function encodeFullChunks(run: SampleRun): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let from = 0; from < run.timestamps.length; from += MAX_SAMPLES_PER_CHUNK) {
    out.push(encodeChunkSamples(run, from, Math.min(run.timestamps.length, from + MAX_SAMPLES_PER_CHUNK), true));
  }
  return out;
}
