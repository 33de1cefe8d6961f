import { prefixEnd } from '../../../src/kv/bytes.js';
import type { KvStore } from '../../../src/kv/kv.js';
import type { Labels } from '../../../src/model/labels.js';
import { sortLabels } from '../../../src/model/labels.js';
import {
  chunkKey,
  labelNameKey,
  labelValueKey,
  postingKey,
  seriesKey,
} from '../../../src/storage/keys.js';
import { encodeLabels, hashLabels, hashToSid } from '../../../src/storage/labels-codec.js';

/** Builds a sorted label set from an object, e.g. labels({ __name__: 'up', job: 'x' }). */
export function labels(pairs: Record<string, string>): Labels {
  return sortLabels(Object.entries(pairs).map(([name, value]) => ({ name, value })));
}

export function sidOf(ls: Labels): bigint {
  return hashToSid(hashLabels(ls));
}

/** Writes the S key of a series and its I/V/N keys for each given day, as ingest does. */
export async function indexSeries(kv: KvStore, ls: Labels, days: readonly number[]): Promise<bigint> {
  const sid = sidOf(ls);
  const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [
    { type: 'put', key: seriesKey(sid), value: encodeLabels(ls) },
  ];
  const empty = new Uint8Array(0);
  for (const day of days) {
    for (const l of ls) {
      ops.push({ type: 'put', key: postingKey(day, l.name, l.value, sid), value: empty });
      ops.push({ type: 'put', key: labelValueKey(day, l.name, l.value), value: empty });
      ops.push({ type: 'put', key: labelNameKey(day, l.name), value: empty });
    }
  }
  await kv.batch(ops);
  return sid;
}

export async function putRawChunk(
  kv: KvStore,
  sid: bigint,
  windowStartMs: number,
  writer: bigint,
  seq: bigint,
  value: Uint8Array,
): Promise<void> {
  await kv.batch([{ type: 'put', key: chunkKey(sid, windowStartMs, writer, seq), value }]);
}

/** Every key of one namespace (a one-letter string), in order. */
export async function keysOf(kv: KvStore, namespace: string): Promise<Uint8Array[]> {
  const start = new TextEncoder().encode(namespace);
  const out: Uint8Array[] = [];
  let from: Uint8Array | undefined = start;
  for (let i = 0; from !== undefined && i < 10_000; i++) {
    const page = await kv.scan({ start: from, end: prefixEnd(start), limit: 1000 });
    for (const e of page.entries) out.push(e.key);
    from = page.next;
  }
  return out;
}
