/**
 * Decoding whole XOR chunks into arrays, fast. One loop with the bit position in a local covers
 * every chunk Metricstor or Prometheus writes in practice; anything it does not handle (a delta
 * beyond 2^53, a varint longer than 7 bytes, a damaged chunk) is decoded again by XorIterator,
 * whose strict checks give the exact samples or the exact ChunkCorruptError.
 */
import { HI_WORD, LO_WORD, wordsOf } from '../model/float-words.js';
import { chunkNumSamples, CHUNK_HEADER_BYTES, minimumBits, XorIterator } from './xor-iterator.js';

// Local copies: an imported binding can cost a getter call per use under some module loaders.
const HI = HI_WORD;
const LO = LO_WORD;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO_POW_32 = 4294967296;
const GAVE_UP = -1;

/**
 * Zeros after a chunk, so that reads never fall off the end of the array (which deoptimises the
 * loop): one sample takes at most 145 bits, and each starts within the chunk.
 */
const PAD_BYTES = 32;
let padded = new Uint8Array(1024);
let paddedView = new DataView(padded.buffer);

/** The chunk in a reused buffer followed by at least PAD_BYTES zeros. */
function paddedCopy(bytes: Uint8Array): Uint8Array {
  if (padded.length < bytes.length + PAD_BYTES) {
    padded = new Uint8Array(2 * (bytes.length + PAD_BYTES));
    paddedView = new DataView(padded.buffer);
  }
  padded.set(bytes);
  padded.fill(0, bytes.length, bytes.length + PAD_BYTES);
  return padded;
}

/** The n (1..32) bits at bit `pos` of the padded chunk (`b` is `padded`, `v` a DataView over it). */
function bitsAt(b: Uint8Array, v: DataView, pos: number, n: number): number {
  const i = pos >>> 3;
  const offset = pos & 7;
  const word = v.getUint32(i);
  const end = offset + n;
  const top = ((word << offset) >>> 0) >>> (32 - n);
  if (end <= 32) return top;
  return (top | (b[i + 4]! >>> (40 - end))) >>> 0;
}

/**
 * The common case of decodeXorInto, or GAVE_UP (having written garbage into the output slots) when
 * the chunk needs the exact path. Only ever gives up, never throws. `b` holds the chunk's `len`
 * bytes followed by at least PAD_BYTES zeros; a read may run past `len` into them, and the end
 * check then gives up.
 */
function decodeFast(b: Uint8Array, v: DataView, len: number, timestamps: Float64Array, words: Uint32Array, at: number): number {
  const total = (b[0]! << 8) | b[1]!;
  if (total === 0) return len === CHUNK_HEADER_BYTES ? 0 : GAVE_UP;
  if (minimumBits(total) > len * 8) return GAVE_UP;
  // First sample: a zig-zag varint timestamp (at most 7 bytes here) and 64 raw bits.
  let p = CHUNK_HEADER_BYTES;
  let u = 0;
  let scale = 1;
  for (let k = 0; ; k++) {
    if (k === 7 || p >= len) return GAVE_UP;
    const byte = b[p++]!;
    u += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  let t = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  if (p + 8 > len) return GAVE_UP;
  let vHi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  let vLo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
  p += 8;
  timestamps[at] = t;
  words[2 * at + HI] = vHi;
  words[2 * at + LO] = vLo;
  let pos = p * 8;
  let lastWriteByteSized = true;
  if (total > 1) {
    // Second timestamp: an unsigned varint delta.
    let delta = 0;
    scale = 1;
    for (let k = 0; ; k++) {
      if (k === 7 || p >= len) return GAVE_UP;
      const byte = b[p++]!;
      delta += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    if (delta <= 0) return GAVE_UP;
    pos = p * 8;
    let leading = 0;
    let trailing = 0;
    const endBit = len * 8;
    for (let i = 1; i < total; i++) {
      if (pos > endBit) return GAVE_UP;
      if (i > 1) {
        let dod = 0;
        // At least 25 valid bits from pos: enough for every prefix and payload but the 64-bit one.
        const peek = (v.getUint32(pos >>> 3) << (pos & 7)) >>> 0;
        if (peek < 0x8000_0000) pos += 1;
        else if (peek < 0xc000_0000) {
          dod = (peek >>> 16) & 0x3fff;
          if (dod > 8192) dod -= 16384;
          pos += 16;
        } else if (peek < 0xe000_0000) {
          dod = (peek >>> 12) & 0x1_ffff;
          if (dod > 65536) dod -= 131072;
          pos += 20;
        } else if (peek < 0xf000_0000) {
          dod = (peek >>> 8) & 0xf_ffff;
          if (dod > 524288) dod -= 1048576;
          pos += 24;
        } else {
          const hi = bitsAt(b, v, pos + 4, 32) | 0;
          if (hi < -0x200000 || hi >= 0x200000) return GAVE_UP;
          dod = hi * TWO_POW_32 + bitsAt(b, v, pos + 36, 32);
          pos += 68;
        }
        delta += dod;
        if (delta <= 0 || delta > MAX_SAFE) return GAVE_UP;
      }
      t += delta;
      if (t > MAX_SAFE) return GAVE_UP;
      // The value, XOR-coded against the previous one.
      const peek = (v.getUint32(pos >>> 3) << (pos & 7)) >>> 0;
      if (peek < 0x8000_0000) {
        pos += 1;
        lastWriteByteSized = false;
      } else {
        if (peek >= 0xc000_0000) {
          leading = (peek >>> 25) & 0x1f;
          let sig = (peek >>> 19) & 0x3f;
          if (sig === 0) sig = 64;
          if (leading + sig > 64) return GAVE_UP;
          trailing = 64 - leading - sig;
          pos += 13;
        } else pos += 2;
        const sigBits = 64 - leading - trailing;
        let hi = 0;
        let lo: number;
        if (sigBits > 32) {
          hi = bitsAt(b, v, pos, sigBits - 32);
          lo = bitsAt(b, v, pos + sigBits - 32, 32);
        } else lo = bitsAt(b, v, pos, sigBits);
        pos += sigBits;
        if (trailing >= 32) {
          hi = lo << (trailing - 32);
          lo = 0;
        } else if (trailing > 0) {
          hi = (hi << trailing) | (lo >>> (32 - trailing));
          lo = lo << trailing;
        }
        vHi = (vHi ^ hi) >>> 0;
        vLo = (vLo ^ lo) >>> 0;
        lastWriteByteSized = (sigBits & 7) === 0;
      }
      const j = at + i;
      timestamps[j] = t;
      words[2 * j + HI] = vHi;
      words[2 * j + LO] = vLo;
    }
  }
  // The chunk must end exactly where Prometheus's writer ends it, with zero padding.
  if (pos > len * 8) return GAVE_UP;
  let expected = (pos + 7) >>> 3;
  if (lastWriteByteSized && (pos & 7) === 0) expected++;
  if (len !== expected) return GAVE_UP;
  const partial = pos & 7;
  if (partial !== 0 && (b[pos >>> 3]! & (0xff >>> partial)) !== 0) return GAVE_UP;
  if (expected > (pos + 7) >>> 3 && b[expected - 1] !== 0) return GAVE_UP;
  return total;
}

/**
 * Decodes every sample of an XOR chunk into timestamps[at...] and the value words of slots at...
 * of `words` (a Uint32Array over the values' Float64Array, see model/float-words.ts); returns the sample
 * count. Both arrays need room for chunkNumSamples(bytes) samples from `at`. Values keep their
 * exact bits. Throws ChunkCorruptError when the chunk is damaged.
 */
export function decodeXorInto(bytes: Uint8Array, timestamps: Float64Array, words: Uint32Array, at: number): number {
  const total = chunkNumSamples(bytes);
  if (timestamps.length < at + total || words.length < 2 * (at + total)) {
    throw new RangeError(`no room for ${total} samples at ${at}`);
  }
  const n = decodeFast(paddedCopy(bytes), paddedView, bytes.length, timestamps, words, at);
  if (n !== GAVE_UP) return n;
  const it = new XorIterator(bytes);
  let i = at;
  while (it.next()) {
    timestamps[i] = it.t;
    it.wordsInto(words, i);
    i++;
  }
  return i - at;
}

/** All samples of a chunk, values with their exact bits. Throws ChunkCorruptError. */
export function decodeXorChunk(bytes: Uint8Array): { timestamps: Float64Array; values: Float64Array } {
  const n = chunkNumSamples(bytes);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  decodeXorInto(bytes, timestamps, wordsOf(values), 0);
  return { timestamps, values };
}
