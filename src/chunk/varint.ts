/**
 * Go's encoding/binary varints over a bit stream: unsigned LEB128 (7 bits a byte, low group
 * first, high bit = more follows, at most 10 bytes for 64 bits) and the zig-zag signed form.
 * Numbers are used while they are exact; BigInt only beyond 2^53.
 */
import type { BitReader, BitWriter } from './bstream.js';
import { ChunkCorruptError } from './errors.js';

const TWO_POW_52 = 2 ** 52;
const MAX_VARINT_BYTES = 10;

/** Writes a non-negative integer held exactly in a double (any magnitude below 2^64). */
export function writeUvarint(w: BitWriter, u: number): void {
  while (u >= 128) {
    w.writeByte((u % 128) | 0x80);
    u = Math.floor(u / 128);
  }
  w.writeByte(u);
}

export function writeUvarintBig(w: BitWriter, u: bigint): void {
  while (u >= 128n) {
    w.writeByte(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  w.writeByte(Number(u));
}

/** Writes a safe integer as a zig-zag varint. */
export function writeVarint(w: BitWriter, t: number): void {
  if (t >= -TWO_POW_52 && t <= TWO_POW_52) {
    // 2|t| ≤ 2^53, so the zig-zag value is exact.
    writeUvarint(w, t >= 0 ? 2 * t : -2 * t - 1);
    return;
  }
  const b = BigInt(t);
  writeUvarintBig(w, b >= 0n ? b << 1n : (-b << 1n) - 1n);
}

/** Reads an unsigned varint; a number when below 2^49 (7 bytes), otherwise a bigint. */
export function readUvarint(r: BitReader): number | bigint {
  let u = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const b = r.readBits(8);
    u += (b & 0x7f) * scale;
    if (b < 0x80) return u;
    scale *= 128;
  }
  let big = BigInt(u);
  for (let i = 7; i < MAX_VARINT_BYTES; i++) {
    const b = r.readBits(8);
    if (i === MAX_VARINT_BYTES - 1 && b > 1) break;
    big |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return big;
  }
  throw new ChunkCorruptError(`varint overflows 64 bits before bit ${r.pos}`);
}

/** Reads a zig-zag varint as a number when exact, otherwise a bigint. */
export function readVarint(r: BitReader): number | bigint {
  const u = readUvarint(r);
  if (typeof u === 'number') return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  return (u & 1n) === 0n ? u >> 1n : -((u + 1n) >> 1n);
}
