import { crc32 } from 'node:zlib';

/**
 * Framing of records in a write-ahead segment file (docs/format/wal-segments.md): each record is
 * [u32 LE payload length][u32 LE CRC-32 of the payload][payload], one after another.
 */

export const FRAME_HEADER_BYTES = 8;
const SEGMENT_NAME = /^\d{16}$/;

export function segmentName(seq: number): string {
  return String(seq).padStart(16, '0');
}

/** The sequence number of a segment file name, or null for any other file. */
export function segmentSeqOf(name: string): number | null {
  return SEGMENT_NAME.test(name) ? Number(name) : null;
}

/** The header to write before `payload`. */
export function frameHeader(payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return header;
}

export interface FrameDamage {
  readonly offset: number;
  readonly reason: string;
}

/**
 * Calls `onRecord` for each whole, intact record of a segment's bytes in order and stops at the
 * first damaged one (short header, short payload, zero length or checksum mismatch), returning
 * where it is; null when the bytes end exactly after a record.
 */
export function scanFrames(bytes: Uint8Array, onRecord: (payload: Uint8Array, offset: number) => void): FrameDamage | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < FRAME_HEADER_BYTES) return { offset: at, reason: 'short record header' };
    const length = view.getUint32(at, true);
    const checksum = view.getUint32(at + 4, true);
    if (length === 0) return { offset: at, reason: 'zero record length' };
    const start = at + FRAME_HEADER_BYTES;
    if (bytes.length - start < length) return { offset: at, reason: `record of ${length} bytes runs past the end of the file` };
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== checksum) return { offset: at, reason: 'checksum mismatch' };
    onRecord(payload, at);
    at = start + length;
  }
  return null;
}
