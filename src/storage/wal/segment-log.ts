import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { MetricstorError, errorMessage } from '../../errors.js';
import { frameHeader, scanFrames, segmentName, segmentSeqOf } from './segment-format.js';

/** What replaying the segments found. */
export interface SegmentReplay {
  readonly segments: number;
  readonly records: number;
  readonly bytes: number;
  /** A damaged end of the last segment (a write cut short by a crash): where replay stopped. */
  readonly tornTail: { readonly file: string; readonly offset: number; readonly reason: string } | null;
}

export interface SegmentLogCounters {
  /** Groups written: one writev and one fdatasync each. */
  readonly syncs: number;
  readonly records: number;
  readonly bytes: number;
  readonly segmentsCreated: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * An append-only log of records in numbered segment files of one directory, which one process
 * owns. Appends arriving while a write is in flight are gathered and go out together as one writev
 * and one fdatasync (group commit); each resolves only after the fdatasync that covers it. `cut`
 * starts a new segment for later appends, `dropBefore` deletes the segments before a cut. After a
 * failed write the log refuses appends until a cut past the failed segment has been dropped.
 */
export class SegmentLog {
  private buffers: Uint8Array[] = [];
  private waiters: Waiter[] = [];
  private pendingBytes = 0;
  private running: Promise<void> | null = null;
  private handle: FileHandle | null = null;
  private handleOffset = 0;
  /** Segment the next group goes to. */
  private writeSeq: number;
  /** Highest segment ever created here (or found at open). */
  private lastCreatedSeq: number;
  /** Segments on disk, ascending. */
  private readonly segments: number[];
  /** Segments present when the log was opened, for replay. */
  private readonly found: readonly number[];
  /** Until replay has run, the segments found at open hold records no flush has covered. */
  private replayed: boolean;
  private broken: { seq: number; message: string } | null = null;
  private closed = false;
  private syncs = 0;
  private records = 0;
  private bytes = 0;
  private segmentsCreated = 0;

  private constructor(
    readonly dir: string,
    found: number[],
  ) {
    this.found = found;
    this.replayed = found.length === 0;
    this.segments = [...found];
    this.lastCreatedSeq = found.length > 0 ? found[found.length - 1]! : 0;
    this.writeSeq = this.lastCreatedSeq + 1;
  }

  /** Opens (creating if needed) the directory; segments already there wait for `replay`. */
  static async open(dir: string): Promise<SegmentLog> {
    await mkdir(dir, { recursive: true });
    const found: number[] = [];
    for (const name of await readdir(dir)) {
      const seq = segmentSeqOf(name);
      if (seq !== null) found.push(seq);
    }
    found.sort((a, b) => a - b);
    return new SegmentLog(dir, found);
  }

  get counters(): SegmentLogCounters {
    return { syncs: this.syncs, records: this.records, bytes: this.bytes, segmentsCreated: this.segmentsCreated };
  }

  /**
   * Passes every intact record of the segments found at open to `apply`, oldest first. A damaged
   * end of the last segment ends replay there (reported); damage anywhere else is an error naming
   * the file and offset, since records after it were acknowledged.
   */
  async replay(apply: (payload: Uint8Array) => void): Promise<SegmentReplay> {
    let records = 0;
    let bytes = 0;
    let tornTail: SegmentReplay['tornTail'] = null;
    for (let i = 0; i < this.found.length; i++) {
      const file = path.join(this.dir, segmentName(this.found[i]!));
      const content = await readFile(file);
      bytes += content.length;
      const damage = scanFrames(content, (payload, offset) => {
        try {
          apply(payload);
        } catch (err) {
          throw new MetricstorError('internal', `write-ahead segment ${file}, record at offset ${offset}: ${errorMessage(err)}`);
        }
        records++;
      });
      if (damage === null) continue;
      if (i < this.found.length - 1) {
        throw new MetricstorError('internal', `write-ahead segment ${file} is damaged at offset ${damage.offset} (${damage.reason}); later segments hold acknowledged records, refusing to start`);
      }
      tornTail = { file, offset: damage.offset, reason: damage.reason };
    }
    this.replayed = true;
    return { segments: this.found.length, records, bytes, tornTail };
  }

  /** Resolves once `payload` is written and covered by an fdatasync. */
  append(payload: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new MetricstorError('unavailable', 'write-ahead log is closed'));
    if (this.broken !== null) return Promise.reject(this.brokenError());
    const header = frameHeader(payload);
    this.buffers.push(header, payload);
    this.pendingBytes += header.length + payload.length;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.running ??= this.run();
    return done;
  }

  /**
   * Sends later appends to a new segment and returns its number: every record appended before
   * this call is in a segment below it. Synchronous, so a caller can pair it with a snapshot.
   */
  flushStarting(): number {
    if (this.lastCreatedSeq >= this.writeSeq) this.writeSeq = this.lastCreatedSeq + 1;
    return this.writeSeq;
  }

  /**
   * Deletes every segment below `seq` (a value from flushStarting whose flush has committed);
   * nothing before `replay`, since the segments found at open are in no flush yet.
   */
  async flushCommitted(seq: number): Promise<void> {
    if (!this.replayed) return;
    while (this.segments.length > 0 && this.segments[0]! < seq) {
      const old = this.segments.shift()!;
      await unlink(path.join(this.dir, segmentName(old))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') {
          this.segments.unshift(old);
          throw err;
        }
      });
    }
    if (this.broken !== null && this.broken.seq < seq) this.broken = null;
  }

  /** Waits for writes in flight, then closes the segment file. Later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running !== null) await this.running;
    await this.closeHandle();
  }

  /** Stops without waiting for anything (tests of recovery); files stay as they are. */
  abandon(): void {
    this.closed = true;
    void (this.running ?? Promise.resolve()).finally(() => this.closeHandle().catch(() => undefined));
  }

  private brokenError(): MetricstorError {
    return new MetricstorError('unavailable', `write-ahead log is unavailable after a failed write: ${this.broken?.message ?? ''}`);
  }

  private async run(): Promise<void> {
    try {
      while (this.waiters.length > 0) {
        const buffers = this.buffers;
        const waiters = this.waiters;
        const total = this.pendingBytes;
        this.buffers = [];
        this.waiters = [];
        this.pendingBytes = 0;
        if (this.broken !== null) {
          const err = this.brokenError();
          for (const w of waiters) w.reject(err);
          continue;
        }
        try {
          await this.writeGroup(buffers, total);
        } catch (err) {
          this.broken = { seq: this.lastCreatedSeq, message: errorMessage(err) };
          await this.closeHandle().catch(() => undefined);
          for (const w of waiters) w.reject(err);
          continue;
        }
        this.syncs++;
        this.records += waiters.length;
        this.bytes += total;
        for (const w of waiters) w.resolve();
      }
    } finally {
      this.running = null;
    }
  }

  private async writeGroup(buffers: Uint8Array[], total: number): Promise<void> {
    if (this.handle === null || this.lastCreatedSeq < this.writeSeq) await this.startSegment();
    const handle = this.handle!;
    let { bytesWritten } = await handle.writev(buffers, this.handleOffset);
    if (bytesWritten < total) {
      const rest = Buffer.concat(buffers).subarray(bytesWritten);
      for (let at = 0; at < rest.length; ) {
        const { bytesWritten: n } = await handle.write(rest, at, rest.length - at, this.handleOffset + bytesWritten);
        if (n === 0) throw new MetricstorError('internal', 'write-ahead segment write made no progress');
        at += n;
        bytesWritten += n;
      }
    }
    this.handleOffset += total;
    await handle.datasync();
  }

  /** Closes the current segment and creates the next; the directory is synced so the new name survives power loss. */
  private async startSegment(): Promise<void> {
    await this.closeHandle();
    const seq = Math.max(this.writeSeq, this.lastCreatedSeq + 1);
    this.lastCreatedSeq = seq;
    this.writeSeq = seq;
    const handle = await open(path.join(this.dir, segmentName(seq)), 'wx');
    this.segments.push(seq);
    this.segmentsCreated++;
    this.handle = handle;
    this.handleOffset = 0;
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close();
  }
}
