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
  try {
    const out = uncompressSync(block, { asBuffer: true });
    if (typeof out === 'string') throw new Error('unexpected string output');
    if (out.length !== declared) throw new Error(`decoded ${out.length} bytes, header declared ${declared}`);
    return out;
  } catch (err) {
    throw badData(`snappy: corrupt input: ${errorMessage(err)}`);
  }
}

function isFramedSnappy(block: Uint8Array): boolean {
  if (block.length < FRAMED_MAGIC.length) return false;
  for (let i = 0; i < FRAMED_MAGIC.length; i++) if (block[i] !== FRAMED_MAGIC[i]) return false;
  return true;
}
