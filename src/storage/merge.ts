/**
 * Merging the chunks of one series into one sorted run with one sample per timestamp. When two
 * chunks disagree at a timestamp, the value whose raw 64 bits are larger as an unsigned integer
 * wins: a rule every node applies the same way whatever the order it reads chunks in.
 */

export interface SampleRun {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** >0 when a's bits win over b's, 0 when equal. */
function compareBits(aw: Uint32Array, ai: number, bw: Uint32Array, bi: number): number {
  const ah = aw[2 * ai + HI]!;
  const bh = bw[2 * bi + HI]!;
  if (ah !== bh) return ah > bh ? 1 : -1;
  const al = aw[2 * ai + LO]!;
  const bl = bw[2 * bi + LO]!;
  return al === bl ? 0 : al > bl ? 1 : -1;
}

function wordsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** Copies value i of `from` into slot j of `to` bit for bit. */
function copyValue(fromWords: Uint32Array, i: number, toWords: Uint32Array, j: number): void {
  toWords[2 * j] = fromWords[2 * i]!;
  toWords[2 * j + 1] = fromWords[2 * i + 1]!;
}

/** The samples of a sorted run with startMs <= t <= endMs (a view when possible). */
export function clip(run: SampleRun, startMs: number, endMs: number): SampleRun {
  const t = run.timestamps;
  let lo = 0;
  let hi = t.length;
  while (lo < t.length && t[lo]! < startMs) lo++;
  while (hi > lo && t[hi - 1]! > endMs) hi--;
  if (lo === 0 && hi === t.length) return run;
  return { timestamps: t.subarray(lo, hi), values: run.values.subarray(lo, hi) };
}

function mergeTwo(a: SampleRun, b: SampleRun): SampleRun {
  const n = a.timestamps.length + b.timestamps.length;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  const aw = wordsOf(a.values);
  const bw = wordsOf(b.values);
  const ow = wordsOf(vs);
  const at = a.timestamps;
  const bt = b.timestamps;
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < at.length && j < bt.length) {
    const x = at[i]!;
    const y = bt[j]!;
    if (x < y) {
      ts[k] = x;
      copyValue(aw, i++, ow, k++);
    } else if (y < x) {
      ts[k] = y;
      copyValue(bw, j++, ow, k++);
    } else {
      ts[k] = x;
      if (compareBits(aw, i, bw, j) >= 0) copyValue(aw, i, ow, k++);
      else copyValue(bw, j, ow, k++);
      i++;
      j++;
    }
  }
  while (i < at.length) {
    ts[k] = at[i]!;
    copyValue(aw, i++, ow, k++);
  }
  while (j < bt.length) {
    ts[k] = bt[j]!;
    copyValue(bw, j++, ow, k++);
  }
  return { timestamps: ts.subarray(0, k), values: vs.subarray(0, k) };
}

/**
 * One sorted run from runs that are each sorted with unique timestamps, in new arrays (never a
 * view of an input). Runs that follow each other are concatenated; overlapping ones are merged
 * in pairs, so k runs of n samples cost O(n log k).
 */
export function mergeRuns(runs: readonly SampleRun[]): SampleRun {
  let level = runs.filter((r) => r.timestamps.length > 0);
  if (level.length === 0) return { timestamps: new Float64Array(0), values: new Float64Array(0) };
  if (level.length === 1) return concatRuns(level);
  // The usual case: one writer's chunks follow each other without overlap; then one copy will do.
  level.sort((a, b) => a.timestamps[0]! - b.timestamps[0]!);
  if (disjointInOrder(level)) return concatRuns(level);
  while (level.length > 1) {
    const next: SampleRun[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? mergeTwo(level[i]!, level[i + 1]!) : level[i]!);
    }
    level = next;
  }
  return level[0]!;
}

function disjointInOrder(sorted: readonly SampleRun[]): boolean {
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!.timestamps;
    if (!(sorted[i]!.timestamps[0]! > prev[prev.length - 1]!)) return false;
  }
  return true;
}

function concatRuns(runs: readonly SampleRun[]): SampleRun {
  let n = 0;
  for (const r of runs) n += r.timestamps.length;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const bytes = new Uint8Array(values.buffer);
  let at = 0;
  for (const r of runs) {
    timestamps.set(r.timestamps, at);
    // copied as bytes, so NaN payloads cannot be touched
    bytes.set(new Uint8Array(r.values.buffer, r.values.byteOffset, r.values.byteLength), at * 8);
    at += r.timestamps.length;
  }
  return { timestamps, values };
}
