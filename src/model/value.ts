/**
 * Prometheus marks a series as stale with one particular NaN bit pattern. Plain JavaScript
 * numbers may lose NaN payloads (V8 canonicalises NaN in some array kinds), so values travel in
 * Float64Arrays and the marker is recognised by its bits, read through an integer view.
 */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** True when values[i] holds exactly the staleness marker. */
export function isStaleAt(values: Float64Array, i: number): boolean {
  const words = new Uint32Array(values.buffer, values.byteOffset + i * 8, 2);
  return words[HI] === STALE_NAN_HI && words[LO] === STALE_NAN_LO;
}

/** Writes the staleness marker into values[i]. */
export function setStaleAt(values: Float64Array, i: number): void {
  const words = new Uint32Array(values.buffer, values.byteOffset + i * 8, 2);
  words[HI] = STALE_NAN_HI;
  words[LO] = STALE_NAN_LO;
}

/** A Float64Array of one element holding the staleness marker. */
export function staleNaNArray(): Float64Array {
  const a = new Float64Array(1);
  setStaleAt(a, 0);
  return a;
}

/** The raw bits of a float64 as [hi, lo] 32-bit words (for tests and encoders). */
export function float64Bits(v: number): [number, number] {
  scratch[0] = v;
  return [scratchWords[HI]!, scratchWords[LO]!];
}
