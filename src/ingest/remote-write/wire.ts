import { MetricstorError, badData } from '../../errors.js';
import { formatLabelsBrief, type Label } from '../../model/labels.js';

/** Protobuf wire types this reader understands; groups (3, 4) are rejected. */
export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const TWO_32 = 4294967296;
const MAX_SAFE_HI = 0x1fffff; // the high word of Number.MAX_SAFE_INTEGER

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A cursor over protobuf bytes that never reads past `end` and fails with bad_data on anything
 * malformed. Every read advances by at least one byte, so no input can make a loop spin.
 * Methods are hand-rolled for the ingest hot path: no allocation except for strings.
 */
export class WireReader {
  pos: number;
  end: number;
  readonly buf: Buffer;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** A varint that must fit in 32 bits (tags, lengths, enums, symbol references). */
  uint32(what: string): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    while (shift < 35) {
      if (this.pos >= this.end) throw badData(`truncated varint in ${what}`);
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        if (result > 0xffffffff) throw badData(`varint in ${what} does not fit in 32 bits`);
        return result;
      }
      shift += 7;
    }
    throw badData(`varint in ${what} is longer than 5 bytes`);
  }

  /**
   * An int64 varint as a number; two's-complement negatives (10 bytes) are supported. Values
   * beyond ±(2^53-1) fail with bad_data naming `what`.
   */
  int64(what: string): number {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (;;) {
      if (this.pos >= this.end) throw badData(`truncated varint in ${what}`);
      const b = buf[this.pos++]!;
      if (i < 4) {
        lo |= (b & 0x7f) << (i * 7);
      } else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else if (i < 9) {
        hi |= (b & 0x7f) << (i * 7 - 32);
      } else {
        if (b > 0x01) throw badData(`varint in ${what} overflows 64 bits`);
        hi |= b << 31;
      }
      i++;
      if (b < 0x80) break;
      if (i === 10) throw badData(`varint in ${what} is longer than 10 bytes`);
    }
    lo >>>= 0;
    hi >>>= 0;
    if (hi & 0x80000000) {
      // negative: -(~x + 1)
      const nlo = (~lo + 1) >>> 0;
      const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
      if (nhi > MAX_SAFE_HI) throw outOfRange(what);
      return -(nhi * TWO_32 + nlo);
    }
    if (hi > MAX_SAFE_HI) throw outOfRange(what);
    return hi * TWO_32 + lo;
  }

  /** Skips a varint of up to 10 bytes. */
  skipVarint(what: string): void {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw badData(`truncated varint in ${what}`);
      if (this.buf[this.pos++]! < 0x80) return;
    }
    throw badData(`varint in ${what} is longer than 10 bytes`);
  }

  /** Reads a tag; returns field number * 8 + wire type as the raw tag value. */
  tag(what: string): number {
    const tag = this.uint32(what);
    if (tag >>> 3 === 0) throw badData(`invalid field number 0 in ${what}`);
    return tag;
  }

  /** Reads a length prefix and returns the end offset of the payload, checked against `end`. */
  lengthEnd(what: string): number {
    const len = this.uint32(what);
    if (len > this.end - this.pos) throw badData(`length ${len} of ${what} runs past the end of its message`);
    return this.pos + len;
  }

  /** Checks that 8 bytes remain and returns their start offset (the caller copies them). */
  fixed64At(what: string): number {
    if (this.end - this.pos < 8) throw badData(`truncated 64-bit value in ${what}`);
    const at = this.pos;
    this.pos += 8;
    return at;
  }

  /** A length-delimited UTF-8 string; invalid UTF-8 is bad_data. */
  string(what: string): string {
    const end = this.lengthEnd(what);
    const s = decodeUtf8(this.buf, this.pos, end, what);
    this.pos = end;
    return s;
  }

  /** Skips one field of the given wire type (unknown fields must be skipped, not rejected). */
  skip(wireType: number, what: string): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.skipVarint(what);
        return;
      case WIRE_I64:
        this.fixed64At(what);
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd(what);
        return;
      case WIRE_I32:
        if (this.end - this.pos < 4) throw badData(`truncated 32-bit value in ${what}`);
        this.pos += 4;
        return;
      default:
        throw badData(`unsupported wire type ${wireType} in ${what}`);
    }
  }
}

function outOfRange(what: string): Error {
  return badData(
    `${what} is out of range: timestamps must be integer milliseconds within ±${Number.MAX_SAFE_INTEGER} (safe integers)`,
  );
}

export function wrongWireType(field: number, got: number, what: string): Error {
  return badData(`field ${field} of ${what} has wrong wire type ${got}`);
}

const FLAT_CONCAT_MAX_CHARS = 13;

/** Decodes UTF-8 with an ASCII fast path; invalid sequences are bad_data. */
export function decodeUtf8(buf: Buffer, start: number, end: number, what: string): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    // Joined character by character, a string this short is flat; a longer one would be a chain
    // of V8 cons strings, several times its size for as long as it is kept.
    if (end - start < FLAT_CONCAT_MAX_CHARS) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
      return s;
    }
    return buf.toString('latin1', start, end);
  }
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    throw badData(`invalid UTF-8 in ${what}`);
  }
}

/** Prefixes a decoding error with the series it happened in (built only on the error path). */
export function inSeries(err: unknown, labels: readonly Label[]): unknown {
  if (!(err instanceof MetricstorError)) return err;
  return new MetricstorError(err.type, `series ${formatLabelsBrief(labels)}: ${err.message}`);
}
