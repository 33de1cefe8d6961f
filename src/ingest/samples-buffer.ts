const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where the typed arrays of a decode come from, and where they go when the decode no longer needs them. */
export interface BufferSource {
  /** An ArrayBuffer of at least `bytes` bytes (possibly more) whose contents are undefined. */
  take(bytes: number): ArrayBuffer;
  /** Hands back a buffer that nothing reads or writes any more. */
  give(buffer: ArrayBuffer): void;
}

/** Allocates afresh every time and leaves freeing to the garbage collector. */
export const FRESH_BUFFERS: BufferSource = {
  take: (bytes) => new ArrayBuffer(bytes),
  give: () => {},
};

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

  /** Columns for at least `capacity` samples, taken from `buffers` (which also gets back what growing replaces). */
  constructor(
    capacity = 256,
    private readonly buffers: BufferSource = FRESH_BUFFERS,
  ) {
    this.timestamps = new Float64Array(buffers.take(Math.max(1, capacity) * 8));
    const capacitySamples = this.timestamps.length;
    this.valueBytes = new Uint8Array(buffers.take(capacitySamples * 8), 0, capacitySamples * 8);
    this.values = new Float64Array(this.valueBytes.buffer, 0, capacitySamples);
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
    const timestamps = new Float64Array(this.buffers.take(this.timestamps.length * 16));
    timestamps.set(this.timestamps);
    const valueBytes = new Uint8Array(this.buffers.take(timestamps.length * 8), 0, timestamps.length * 8);
    valueBytes.set(this.valueBytes);
    this.buffers.give(this.timestamps.buffer as ArrayBuffer);
    this.buffers.give(this.valueBytes.buffer as ArrayBuffer);
    this.timestamps = timestamps;
    this.valueBytes = valueBytes;
    this.values = new Float64Array(valueBytes.buffer, 0, timestamps.length);
  }
}
