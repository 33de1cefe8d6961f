import { uncompressSync } from 'snappy';
import { MetricstorError, badData, errorMessage } from '../../errors.js';

/** The stream identifier chunk that starts the framed snappy format, which remote write forbids. */
const FRAMED_MAGIC = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59];

/**
 * Reads the uncompressed length a snappy block declares in its leading uvarint (at most 32 bits).
 */
export function declaredSnappyLength(block: Uint8Array): number {
  let result = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw badData('snappy: truncated length header');
    const b = block[i]!;
    result += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (result > 0xffffffff) throw badData('snappy: length header does not fit in 32 bits');
      return result;
    }
  }
  throw badData('snappy: length header is longer than 5 bytes');
}

/**
 * Decompresses one snappy block. The declared length is checked against `maxDecodedBytes` before
 * any memory is allocated for the output, so a small body cannot expand into a huge one.
 */
export function decodeSnappyBlock(block: Uint8Array, maxDecodedBytes: number): Buffer {
  const declared = checkedSnappyLength(block, maxDecodedBytes);
  try {
    const out = uncompressSync(block, { asBuffer: true });
    if (typeof out === 'string') throw new Error('unexpected string output');
    if (out.length !== declared) throw new Error(`decoded ${out.length} bytes, header declared ${declared}`);
    return out;
  } catch (err) {
    throw badData(`snappy: corrupt input: ${errorMessage(err)}`);
  }
}

/**
 * As decodeSnappyBlock, but into memory from `take` (given the declared length, it returns an
 * ArrayBuffer at least that long), so a caller that recycles buffers allocates nothing per block.
 * A block this decoder finds corrupt is handed to decodeSnappyBlock, so errors read the same.
 */
export function decodeSnappyBlockInto(block: Uint8Array, maxDecodedBytes: number, take: (bytes: number) => ArrayBuffer): Uint8Array {
  const declared = checkedSnappyLength(block, maxDecodedBytes);
  const out = new Uint8Array(take(declared), 0, declared);
  if (!decompressInto(block, uvarintLength(block), out)) out.set(decodeSnappyBlock(block, maxDecodedBytes));
  return out;
}

function checkedSnappyLength(block: Uint8Array, maxDecodedBytes: number): number {
  if (isFramedSnappy(block)) {
    throw badData('snappy: body uses the framed (stream) format; remote write requires the block format');
  }
  const declared = declaredSnappyLength(block);
  if (declared > maxDecodedBytes) {
    throw new MetricstorError(
      'too_large',
      `snappy: decoded body would be ${declared} bytes, more than the limit of ${maxDecodedBytes}`,
    );
  }
  return declared;
}

function uvarintLength(block: Uint8Array): number {
  let i = 0;
  while (block[i]! >= 0x80) i++;
  return i + 1;
}

/**
 * The snappy block format's literals and back-references, from block[at] on, filling `out`
 * exactly; false when the block does not (corrupt or truncated input).
 */
function decompressInto(block: Uint8Array, at: number, out: Uint8Array): boolean {
  const end = block.length;
  const size = out.length;
  let pos = at;
  let o = 0;
  while (pos < end) {
    const tag = block[pos++]!;
    const kind = tag & 3;
    let length: number;
    if (kind === 0) {
      length = tag >>> 2;
      if (length >= 60) {
        const bytes = length - 59;
        if (pos + bytes > end) return false;
        length = 0;
        for (let k = 0; k < bytes; k++) length += block[pos + k]! * 2 ** (8 * k);
        pos += bytes;
      }
      length += 1;
      if (pos + length > end || o + length > size) return false;
      if (length < 16) for (let k = 0; k < length; k++) out[o + k] = block[pos + k]!;
      else out.set(block.subarray(pos, pos + length), o);
      pos += length;
      o += length;
      continue;
    }
    let offset: number;
    if (kind === 1) {
      if (pos >= end) return false;
      length = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | block[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > end) return false;
      length = 1 + (tag >>> 2);
      offset = block[pos]! | (block[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > end) return false;
      length = 1 + (tag >>> 2);
      offset = (block[pos]! | (block[pos + 1]! << 8) | (block[pos + 2]! << 16)) + block[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + length > size) return false;
    if (offset >= length && length >= 16) out.copyWithin(o, o - offset, o - offset + length);
    else for (let k = 0; k < length; k++) out[o + k] = out[o + k - offset]!;
    o += length;
  }
  return o === size;
}

function isFramedSnappy(block: Uint8Array): boolean {
  if (block.length < FRAMED_MAGIC.length) return false;
  for (let i = 0; i < FRAMED_MAGIC.length; i++) if (block[i] !== FRAMED_MAGIC[i]) return false;
  return true;
}
