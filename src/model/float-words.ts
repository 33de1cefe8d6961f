/**
 * Float64 values are handled as two unsigned 32-bit words (hi holds the sign, exponent and top of
 * the mantissa), read and written through a Uint32Array over the same memory, so NaN payloads are
 * never touched by float arithmetic.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Index of the high word of element i is 2 * i + HI_WORD. */
export const HI_WORD = LITTLE_ENDIAN ? 1 : 0;
export const LO_WORD = LITTLE_ENDIAN ? 0 : 1;

/** A Uint32Array over exactly the memory of a Float64Array. */
export function wordsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

// One slot: the buffer behind the last values asked about (the series of one request share it).
let wordsBuffer: ArrayBufferLike | null = null;
let bufferWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/**
 * A Uint32Array over the whole buffer behind `values`; element i of `values` is at words
 * (values.byteOffset >>> 2) + 2 * i (+ HI_WORD / LO_WORD). Views of one buffer share one array,
 * so callers walking many small views of a request buffer allocate nothing per view.
 */
export function bufferWordsOf(values: Float64Array): Uint32Array {
  if (values.buffer !== wordsBuffer) {
    wordsBuffer = values.buffer;
    bufferWords = new Uint32Array(values.buffer, 0, values.buffer.byteLength >>> 2);
  }
  return bufferWords;
}
