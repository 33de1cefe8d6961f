import { closeSync, fdatasync, fstatSync, fsync, mkdirSync, openSync, readSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { MetricstorError } from '../errors.js';

/**
 * Append-only files for the values of bulk puts (docs/adr/0005-bulk-values-out-of-the-tree.md): the
 * embedded KV writes such a value here and keeps only a reference to it in its B-tree. Written with
 * pwrite and read with pread, never mapped, so ingest does not make the files resident memory.
 *
 * A segment is `<id>.vlog`, ids ascending, each file a 4-byte magic and then records
 * `u16 key length, u32 value length, key, value` (big-endian). Each process that opens the store
 * starts a segment of its own and rotates to a new one at SEGMENT_BYTES; a segment another process
 * may still append to is never one this process appends to. Records carry their key so that
 * collection can tell, by looking the key up, whether the tree still refers to them.
 */

export interface ValueRef {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

export interface LoggedRecord {
  readonly key: Uint8Array;
  readonly ref: ValueRef;
}

const MAGIC = Buffer.from('MVL1', 'latin1');
const RECORD_HEADER_BYTES = 6;
const SUFFIX = '.vlog';
/** A segment is sealed once it reaches this size (a record larger than that gets a segment alone). */
export const SEGMENT_BYTES = 64 * 1024 * 1024;
const SCAN_BUFFER_BYTES = 1024 * 1024;
const MAX_KEY_BYTES = 0xffff;

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

interface Segment {
  readonly id: number;
  fd: number;
  /** Bytes written (the next record's offset); only known for segments this process writes. */
  size: number;
}

export class ValueLog {
  private readonly segments = new Map<number, Segment>();
  private active: Segment | null = null;
  /** Segments written since their last fdatasync, and whether a new file awaits a directory fsync. */
  private readonly unsynced = new Set<Segment>();
  private dirUnsynced = false;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  static open(dir: string, segmentBytes = SEGMENT_BYTES): ValueLog {
    mkdirSync(dir, { recursive: true });
    return new ValueLog(dir, segmentBytes);
  }

  /** Segment ids on disk, ascending. */
  listSegments(): number[] {
    const ids: number[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(SUFFIX)) continue;
      const id = Number(name.slice(0, -SUFFIX.length));
      if (Number.isSafeInteger(id) && id > 0) ids.push(id);
    }
    return ids.sort((a, b) => a - b);
  }

  /** The segment this process appends to now; null before its first append. */
  get activeSegment(): number | null {
    return this.active?.id ?? null;
  }

  /**
   * Writes the records into the active segment (into the page cache; `sync` makes them durable)
   * and returns where each value went, in order.
   */
  append(records: readonly { readonly key: Uint8Array; readonly value: Uint8Array }[]): ValueRef[] {
    let bytes = 0;
    for (const r of records) {
      if (r.key.length > MAX_KEY_BYTES) throw new MetricstorError('internal', `value log keys are at most ${MAX_KEY_BYTES} bytes`);
      bytes += RECORD_HEADER_BYTES + r.key.length + r.value.length;
    }
    const seg = this.segmentFor(bytes);
    const buf = Buffer.allocUnsafeSlow(bytes);
    const refs: ValueRef[] = new Array<ValueRef>(records.length);
    let at = 0;
    for (let i = 0; i < records.length; i++) {
      const { key, value } = records[i]!;
      buf.writeUInt16BE(key.length, at);
      buf.writeUInt32BE(value.length, at + 2);
      buf.set(key, at + RECORD_HEADER_BYTES);
      const valueAt = at + RECORD_HEADER_BYTES + key.length;
      buf.set(value, valueAt);
      refs[i] = { segment: seg.id, offset: seg.size + valueAt, length: value.length };
      at = valueAt + value.length;
    }
    writeFully(seg.fd, buf, seg.size);
    seg.size += bytes;
    this.unsynced.add(seg);
    return refs;
  }

  /** Makes every append so far durable: fdatasync of the segments written, fsync of the directory. */
  async sync(): Promise<void> {
    const segs = [...this.unsynced];
    this.unsynced.clear();
    const dir = this.dirUnsynced;
    this.dirUnsynced = false;
    try {
      await Promise.all(segs.map((s) => fdatasyncAsync(s.fd)));
      if (dir) await syncDirectory(this.dir);
    } catch (err) {
      for (const s of segs) this.unsynced.add(s);
      if (dir) this.dirUnsynced = true;
      throw err;
    }
  }

  /** The value a reference points at. */
  read(ref: ValueRef): Buffer {
    const buf = Buffer.allocUnsafe(ref.length);
    const fd = this.fdOf(ref.segment);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(fd, buf, done, ref.length - done, ref.offset + done);
      if (n === 0) throw new MetricstorError('internal', `value log segment ${ref.segment} ends before ${ref.offset + ref.length}`);
      done += n;
    }
    return buf;
  }

  /** Every whole record of a segment, in file order; a torn record at the end is not one. */
  *records(segment: number): Generator<LoggedRecord> {
    const fd = this.fdOf(segment);
    const fileBytes = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(SCAN_BUFFER_BYTES);
    let windowStart = 0;
    let windowBytes = 0;
    // True when [at, at + n) is in the buffer, reading from `at` when it is not.
    const have = (at: number, n: number): boolean => {
      if (at >= windowStart && at + n <= windowStart + windowBytes) return true;
      windowStart = at;
      windowBytes = readSync(fd, buf, 0, buf.length, at);
      return windowBytes >= n;
    };
    let pos = MAGIC.length;
    while (have(pos, RECORD_HEADER_BYTES)) {
      let at = pos - windowStart;
      const keyLength = buf.readUInt16BE(at);
      const valueLength = buf.readUInt32BE(at + 2);
      const valueAt = pos + RECORD_HEADER_BYTES + keyLength;
      if (valueAt + valueLength > fileBytes || !have(pos, RECORD_HEADER_BYTES + keyLength)) return;
      at = pos - windowStart + RECORD_HEADER_BYTES;
      const key = new Uint8Array(buf.subarray(at, at + keyLength));
      yield { key, ref: { segment, offset: valueAt, length: valueLength } };
      pos = valueAt + valueLength;
    }
  }

  /** Ends appends to the active segment; the next append starts a new one. */
  seal(): void {
    this.active = null;
  }

  /** Deletes a segment nothing refers to any more. Never the active one. */
  remove(segment: number): void {
    if (this.active?.id === segment) throw new MetricstorError('internal', 'the active value log segment cannot be removed');
    const seg = this.segments.get(segment);
    unlinkSync(this.fileOf(segment));
    if (seg !== undefined) {
      this.segments.delete(segment);
      this.unsynced.delete(seg);
      closeSync(seg.fd);
    }
    this.dirUnsynced = true;
  }

  close(): void {
    for (const seg of this.segments.values()) closeSync(seg.fd);
    this.segments.clear();
    this.unsynced.clear();
    this.active = null;
  }

  private segmentFor(bytes: number): Segment {
    const seg = this.active;
    if (seg !== null && (seg.size + bytes <= this.segmentBytes || seg.size === MAGIC.length)) return seg;
    return (this.active = this.createSegment());
  }

  private createSegment(): Segment {
    let id = Math.max(0, ...this.listSegments(), ...this.segments.keys()) + 1;
    for (;;) {
      try {
        const fd = openSync(this.fileOf(id), 'wx+');
        writeFully(fd, MAGIC, 0);
        const seg: Segment = { id, fd, size: MAGIC.length };
        this.segments.set(id, seg);
        this.dirUnsynced = true;
        return seg;
      } catch (err) {
        // Another process took this id between the listing and the create.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        id++;
      }
    }
  }

  private fdOf(segment: number): number {
    let seg = this.segments.get(segment);
    if (seg === undefined) {
      seg = { id: segment, fd: openSync(this.fileOf(segment), 'r'), size: -1 };
      this.segments.set(segment, seg);
    }
    return seg.fd;
  }

  private fileOf(segment: number): string {
    return path.join(this.dir, `${String(segment).padStart(8, '0')}${SUFFIX}`);
  }
}

function writeFully(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

async function syncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}
