const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The samples of one request in two growable columns: timestamps and raw float64 value bytes.
 * Series refer to a run [first, first + count) of it, so decoding allocates nothing per sample
 * or per series. Values are only ever moved as bytes, so every NaN payload survives.
 */
export class SamplesBuffer {
  timestamps: Float64Array;
  values: Float64Array;
  valueBytes: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.timestamps = new Float64Array(Math.max(1, capacity));
    this.values = new Float64Array(this.timestamps.length);
    this.valueBytes = new Uint8Array(this.values.buffer);
  }

  /** A buffer over existing columns (sent by a decode worker); valueBytes holds 8 bytes per timestamp. */
  static wrap(timestamps: Float64Array, valueBytes: Uint8Array, length: number): SamplesBuffer {
    const buffer = new SamplesBuffer(1);
    buffer.timestamps = timestamps;
    buffer.valueBytes = valueBytes;
    buffer.values = new Float64Array(valueBytes.buffer, valueBytes.byteOffset, timestamps.length);
    buffer.length = length;
    return buffer;
  }

  /** Appends one sample whose value is the 8 little-endian bytes at src[at]. */
  pushWire(timestampMs: number, src: Uint8Array, at: number): void {
    if (this.length === this.timestamps.length) this.grow();
    const i = this.length++;
    this.timestamps[i] = timestampMs;
    const o = i * 8;
    const dst = this.valueBytes;
    if (HOST_LITTLE_ENDIAN) {
      dst[o] = src[at]!;
      dst[o + 1] = src[at + 1]!;
      dst[o + 2] = src[at + 2]!;
      dst[o + 3] = src[at + 3]!;
      dst[o + 4] = src[at + 4]!;
      dst[o + 5] = src[at + 5]!;
      dst[o + 6] = src[at + 6]!;
      dst[o + 7] = src[at + 7]!;
    } else {
      for (let k = 0; k < 8; k++) dst[o + k] = src[at + 7 - k]!;
    }
  }

  /** Appends one sample whose value is values[index] (copied as bytes). */
  pushFrom(timestampMs: number, values: Float64Array, index: number): void {
    if (this.length === this.timestamps.length) this.grow();
    const i = this.length++;
    this.timestamps[i] = timestampMs;
    this.valueBytes.set(new Uint8Array(values.buffer, values.byteOffset + index * 8, 8), i * 8);
  }

  /** Appends a sample with value 0 (a protobuf Sample without its value field). */
  pushZero(timestampMs: number): void {
    if (this.length === this.timestamps.length) this.grow();
    const i = this.length++;
    this.timestamps[i] = timestampMs;
    this.values[i] = 0;
  }

  private grow(): void {
    const timestamps = new Float64Array(this.timestamps.length * 2);
    timestamps.set(this.timestamps);
    const valueBytes = new Uint8Array(timestamps.length * 8);
    valueBytes.set(this.valueBytes);
    this.timestamps = timestamps;
    this.valueBytes = valueBytes;
    this.values = new Float64Array(valueBytes.buffer);
  }
}
