import { prefixEnd } from '../../../src/kv/bytes.js';
import type { KvStore } from '../../../src/kv/kv.js';
import type { Labels } from '../../../src/model/labels.js';
import { sortLabels } from '../../../src/model/labels.js';
import {
  chunkKey,
  decodeChunkKey,
  windowStartOfMs,
  labelNameKey,
  labelValueKey,
  postingKey,
  seriesKey,
} from '../../../src/storage/keys.js';
import { encodeLabels, hashLabels, hashToSid } from '../../../src/storage/labels-codec.js';
import { encodeChunkSamples } from '../../../src/storage/maintenance/chunk-values.js';

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

/** A sample with its value as raw bits, so NaN payloads survive test plumbing. */
export interface RawSample {
  readonly t: number;
  readonly hi: number;
  readonly lo: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function runOf(samples: readonly RawSample[]): { timestamps: Float64Array; values: Float64Array } {
  const timestamps = new Float64Array(samples.length);
  const values = new Float64Array(samples.length);
  const words = new Uint32Array(values.buffer);
  samples.forEach((s, i) => {
    timestamps[i] = s.t;
    words[2 * i + (LITTLE_ENDIAN ? 1 : 0)] = s.hi;
    words[2 * i + (LITTLE_ENDIAN ? 0 : 1)] = s.lo;
  });
  return { timestamps, values };
}

export function rawSamplesOf(run: { timestamps: Float64Array; values: Float64Array }): RawSample[] {
  const words = new Uint32Array(run.values.buffer, run.values.byteOffset, run.values.length * 2);
  const out: RawSample[] = [];
  for (let i = 0; i < run.timestamps.length; i++) {
    out.push({ t: run.timestamps[i]!, hi: words[2 * i + (LITTLE_ENDIAN ? 1 : 0)]!, lo: words[2 * i + (LITTLE_ENDIAN ? 0 : 1)]! });
  }
  return out;
}

export function rawOf(t: number, v: number): RawSample {
  const f = new Float64Array([v]);
  const w = new Uint32Array(f.buffer);
  return { t, hi: w[LITTLE_ENDIAN ? 1 : 0]!, lo: w[LITTLE_ENDIAN ? 0 : 1]! };
}

/** Stores one chunk of samples (sorted, strictly increasing, all in one window). */
export async function putChunk(
  kv: KvStore,
  sid: bigint,
  writer: bigint,
  seq: bigint,
  samples: readonly RawSample[],
  closed = true,
): Promise<void> {
  const value = encodeChunkSamples(runOf(samples), 0, samples.length, closed);
  const key = chunkKey(sid, windowStartOfMs(samples[0]!.t), writer, seq);
  await kv.batch([{ type: 'put', key, value }]);
}

/** Every chunk key of the store, decoded, as "window/writer/seq" strings per series. */
export async function chunkLayout(kv: KvStore): Promise<string[]> {
  return (await keysOf(kv, 'C')).map((k) => {
    const c = decodeChunkKey(k);
    return `${c.sid.toString(16)}/${c.windowStartMs}/${c.writer.toString(16)}/${c.seq.toString(16)}`;
  });
}
