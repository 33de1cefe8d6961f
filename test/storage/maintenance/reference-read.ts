import { decodeChunkData } from '../../../src/chunk/stored.js';
import type { KvStore } from '../../../src/kv/kv.js';
import { chunkSeriesPrefix, chunkValueData, decodeChunkHeader } from '../../../src/storage/keys.js';
import { prefixEnd } from '../../../src/kv/bytes.js';
import type { RawSample } from './fixture.js';
import { rawSamplesOf } from './fixture.js';

/**
 * What a read of one series returns, computed the plain way (a map from timestamp to the winning
 * bits) so that tests do not lean on the merge code they check: every chunk of the series is
 * decoded, and at each timestamp the value with the larger unsigned 64-bit pattern wins.
 */
export async function referenceRead(kv: KvStore, sid: bigint, startMs = -Infinity, endMs = Infinity): Promise<RawSample[]> {
  const prefix = chunkSeriesPrefix(sid);
  const page = await kv.scan({ start: prefix, end: prefixEnd(prefix), limit: 100_000 });
  const best = new Map<number, RawSample>();
  for (const e of page.entries) {
    for (const s of rawSamplesOf(decodeChunkData(decodeChunkHeader(e.value).encoding, chunkValueData(e.value)))) {
      if (s.t < startMs || s.t > endMs) continue;
      const prev = best.get(s.t);
      if (prev === undefined || prev.hi < s.hi || (prev.hi === s.hi && prev.lo < s.lo)) best.set(s.t, s);
    }
  }
  return [...best.values()].sort((a, b) => a.t - b.t);
}
