/** Samples of one series in timestamp order, one per timestamp, values with their exact bits. */
export interface SampleRun {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

function words(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

/**
 * Merges sample runs (each sorted, e.g. decoded chunks) into one run with one sample per
 * timestamp, by the rule reads use (docs/format/kv-keys.md): equal values are one sample, and of
 * different values at one timestamp the one whose 64 raw bits are larger as an unsigned integer
 * wins. The rule does not depend on the order of the inputs, so any node gets the same answer.
 */
export function mergeRuns(runs: readonly SampleRun[]): SampleRun {
  let total = 0;
  for (const r of runs) total += r.timestamps.length;
  const ts = new Float64Array(total);
  const inWords = new Uint32Array(total * 2);
  let at = 0;
  for (const r of runs) {
    ts.set(r.timestamps, at);
    inWords.set(words(r.values), at * 2);
    at += r.timestamps.length;
  }
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  // Timestamp ascending, then raw bits descending: the winner of each timestamp comes first.
  order.sort((a, b) => {
    const dt = ts[a]! - ts[b]!;
    if (dt !== 0) return dt;
    const dh = inWords[b * 2 + HI]! - inWords[a * 2 + HI]!;
    if (dh !== 0) return dh;
    return inWords[b * 2 + LO]! - inWords[a * 2 + LO]!;
  });
  const outTs = new Float64Array(total);
  const outValues = new Float64Array(total);
  const outWords = words(outValues);
  let n = 0;
  for (let k = 0; k < total; k++) {
    const i = order[k]!;
    if (n > 0 && outTs[n - 1] === ts[i]) continue;
    outTs[n] = ts[i]!;
    outWords[n * 2 + HI] = inWords[i * 2 + HI]!;
    outWords[n * 2 + LO] = inWords[i * 2 + LO]!;
    n++;
  }
  return { timestamps: outTs.slice(0, n), values: outValues.slice(0, n) };
}
