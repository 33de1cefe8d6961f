import { PooledByteBlocks, XorAppender, bufferWordsOf, type ByteBlocks } from '../chunk/index.js';
import {
  CHUNK_ENCODING_XOR,
  CHUNK_HEADER_BYTES,
  chunkKey,
  makeSeq,
  WINDOW_MS,
  windowStartOfMs,
  writeChunkHeader,
} from './keys.js';

/** A chunk is cut once it holds this many samples (as Prometheus does). */
export const MAX_SAMPLES_PER_CHUNK = 120;
/** Open chunks per series beyond this (out-of-order writers) close the least recently used one. */
const MAX_OPEN_CHUNKS_PER_SERIES = 8;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** One chunk this writer builds in memory: open (taking samples) or closed but not yet saved. */
export class HeadChunk {
  readonly appender: XorAppender;
  readonly windowEndMs: number;
  numSamples = 0;
  firstT = 0;
  lastT = Number.NEGATIVE_INFINITY;
  /** Raw bits of the last value, to drop an exact repeat of the last sample. */
  lastHi = 0;
  lastLo = 0;
  closed = false;
  /** Grows with every change; the KV holds this chunk up to `savedVersion`. */
  version = 0;
  savedVersion = 0;
  /** True while the chunk is in the head's changed set (spares a Set lookup per append). */
  queued = false;
  /** Its KV key once a read has asked for it (see Head.readKey). */
  keyForReads: Uint8Array | null = null;
  lastAppendMs: number;

  constructor(
    readonly series: SeriesHead,
    /** Its place in the writer's sequence; with the series, window and writer it makes the KV key. */
    readonly counter: number,
    readonly windowStartMs: number,
    nowMs: number,
    blocks: ByteBlocks,
  ) {
    this.appender = new XorAppender(blocks);
    this.windowEndMs = windowStartMs + WINDOW_MS;
    this.lastAppendMs = nowMs;
  }
}

const NO_CHUNKS: readonly HeadChunk[] = Object.freeze([]);

/** The chunks of one series that live in this node's memory. */
export class SeriesHead {
  /**
   * Open chunks and closed ones whose final version is not yet in the KV. Replaced, not changed in
   * place: a list made to size holds its one or two chunks in a fifth of what a grown one takes.
   */
  chunks: readonly HeadChunk[] = NO_CHUNKS;
  /** The chunk the last sample went to: the fast path tries it first. */
  current: HeadChunk | null = null;
  /** Set once the head dropped this series; whoever holds it must ask the head again. */
  detached = false;

  constructor(readonly sid: bigint) {}
}

/** What one KV put of a chunk carries, and the version it saves. */
export interface ChunkSnapshot {
  readonly chunk: HeadChunk;
  readonly version: number;
  readonly value: Uint8Array;
}

/**
 * This writer's open chunks: one or more per (series, window). Samples go to the newest open chunk
 * of their window that ends before them; a sample older than every open chunk of its window (or an
 * out-of-order one) starts another chunk. Chunks are cut at 120 samples. Knows nothing about the KV:
 * the storage asks for snapshots of changed chunks and reports which ones were committed.
 */
export class Head {
  private readonly bySid = new Map<bigint, SeriesHead>();
  private readonly changed = new Set<HeadChunk>();
  /** The chunks' buffers: a dropped chunk's go straight to the next chunk. */
  private readonly blocks = new PooledByteBlocks();
  /** Closed chunks in `changed`: final, and waiting only for the next write to the KV. */
  private closedQueued = 0;
  private counter = 0;

  constructor(
    readonly writer: bigint,
    readonly incarnation: number,
  ) {}

  /** The KV key of a chunk of this head (made on demand: a key per chunk in memory costs more). */
  chunkKey(c: HeadChunk): Uint8Array {
    return chunkKey(c.series.sid, c.windowStartMs, this.writer, makeSeq(this.incarnation, c.counter));
  }

  /**
   * chunkKey for the read path, kept on the chunk after the first read: a query may ask for the
   * keys of every series in memory, each time. Writes do not keep it, so a head nobody reads holds
   * no keys.
   */
  readKey(c: HeadChunk): Uint8Array {
    return (c.keyForReads ??= this.chunkKey(c));
  }

  get(sid: bigint): SeriesHead | undefined {
    return this.bySid.get(sid);
  }

  getOrCreate(sid: bigint): SeriesHead {
    let sh = this.bySid.get(sid);
    if (sh === undefined) {
      sh = new SeriesHead(sid);
      this.bySid.set(sid, sh);
    }
    return sh;
  }

  get seriesCount(): number {
    return this.bySid.size;
  }

  /** Chunks still taking samples (a walk over the head; for self-monitoring, not hot paths). */
  get openChunkCount(): number {
    let n = 0;
    for (const sh of this.bySid.values()) for (const c of sh.chunks) if (!c.closed) n++;
    return n;
  }

  /** Appends samples [start, end) in any order; an exact repeat of a chunk's last sample is dropped. */
  append(sh: SeriesHead, timestamps: ArrayLike<number>, values: Float64Array, nowMs: number, start = 0, end = timestamps.length): void {
    const words = bufferWordsOf(values);
    const base = values.byteOffset >>> 2;
    let c = sh.current;
    for (let i = start; i < end; i++) {
      const t = timestamps[i]!;
      const hi = words[base + 2 * i + HI]!;
      const lo = words[base + 2 * i + LO]!;
      if (c === null || !(t > c.lastT && t < c.windowEndMs && c.numSamples < MAX_SAMPLES_PER_CHUNK)) {
        if (c !== null) {
          this.touched(c, nowMs);
          if (t >= c.windowEndMs) this.close(c); // cut at the window edge
        }
        c = this.chunkFor(sh, t, hi, lo, nowMs);
        if (c === null) continue;
      }
      if (c.numSamples === 0) c.firstT = t;
      c.appender.appendWords(t, hi, lo);
      c.numSamples++;
      c.lastT = t;
      c.lastHi = hi;
      c.lastLo = lo;
      c.version++;
    }
    if (c !== null) this.touched(c, nowMs);
    sh.current = c;
  }

  private touched(c: HeadChunk, nowMs: number): void {
    c.lastAppendMs = nowMs;
    if (!c.queued && c.version !== c.savedVersion) this.queue(c);
  }

  private queue(c: HeadChunk): void {
    if (c.queued) return;
    c.queued = true;
    this.changed.add(c);
    if (c.closed) this.closedQueued++;
  }

  /** Closed chunks whose final version is not yet taken for the KV. */
  get closedWaiting(): number {
    return this.closedQueued;
  }

  /** The chunk a sample at `t` goes to; null when it exactly repeats a chunk's last sample. */
  private chunkFor(sh: SeriesHead, t: number, hi: number, lo: number, nowMs: number): HeadChunk | null {
    const windowStartMs = windowStartOfMs(t);
    let best: HeadChunk | null = null;
    let open = 0;
    let leastRecent: HeadChunk | null = null;
    for (const c of sh.chunks) {
      if (c.closed) continue;
      open++;
      if (leastRecent === null || c.lastAppendMs < leastRecent.lastAppendMs) leastRecent = c;
      if (c.windowStartMs !== windowStartMs) continue;
      if (c.lastT === t && c.lastHi === hi && c.lastLo === lo) return null;
      if (c.lastT < t && (best === null || c.lastT > best.lastT)) best = c;
    }
    if (best !== null && best.numSamples < MAX_SAMPLES_PER_CHUNK) return best;
    if (best !== null) {
      this.close(best);
      open--;
    } else if (open >= MAX_OPEN_CHUNKS_PER_SERIES && leastRecent !== null) this.close(leastRecent);
    const c = new HeadChunk(sh, this.counter++, windowStartMs, nowMs, this.blocks);
    sh.chunks = sh.chunks.concat(c);
    return c;
  }

  /** Marks a chunk final; it stays readable here until its closed version is committed. */
  close(c: HeadChunk): void {
    if (c.closed) return;
    c.closed = true;
    c.version++;
    if (c.queued) this.closedQueued++;
    else this.queue(c);
    if (c.series.current === c) c.series.current = null;
  }

  /** Closes every open chunk not appended to since `idleSinceMs`. */
  closeIdle(idleSinceMs: number): void {
    for (const sh of this.bySid.values()) {
      for (const c of sh.chunks) if (!c.closed && c.lastAppendMs <= idleSinceMs) this.close(c);
    }
  }

  /** Closes every open chunk (on shutdown). */
  closeAll(): void {
    for (const sh of this.bySid.values()) for (const c of sh.chunks) this.close(c);
  }

  /**
   * Snapshots of chunks with changes the KV lacks: only closed ones, or all of them when
   * `includeOpen`. They leave the changed set; `committed` or `failed` settles them.
   */
  takeChanged(includeOpen: boolean): ChunkSnapshot[] {
    const taken: HeadChunk[] = [];
    let sizeBytes = 0;
    for (const c of this.changed) {
      if (!includeOpen && !c.closed) continue;
      this.changed.delete(c);
      c.queued = false;
      if (c.closed) this.closedQueued--;
      if (c.numSamples === 0) continue;
      taken.push(c);
      sizeBytes += CHUNK_HEADER_BYTES + c.appender.sizeBytes;
    }
    // One buffer for every value of the batch: thousands of small allocations cost more than the copy.
    const arena = new Uint8Array(sizeBytes);
    const out: ChunkSnapshot[] = [];
    let at = 0;
    for (const c of taken) {
      writeChunkHeader(arena, at, { encoding: CHUNK_ENCODING_XOR, closed: c.closed, minTimeMs: c.firstT, maxTimeMs: c.lastT });
      const end = c.appender.copyTo(arena, at + CHUNK_HEADER_BYTES);
      out.push({ chunk: c, version: c.version, value: arena.subarray(at, end) });
      at = end;
    }
    return out;
  }

  /** True when some chunk holds changes the KV lacks. */
  hasChanges(includeOpen: boolean): boolean {
    if (includeOpen) return this.changed.size > 0;
    for (const c of this.changed) if (c.closed) return true;
    return false;
  }

  committed(snapshots: readonly ChunkSnapshot[]): void {
    for (const s of snapshots) {
      const c = s.chunk;
      if (s.version > c.savedVersion) c.savedVersion = s.version;
      if (c.closed && c.savedVersion === c.version) this.drop(c);
    }
  }

  failed(snapshots: readonly ChunkSnapshot[]): void {
    for (const s of snapshots) if (!s.chunk.queued && s.chunk.version !== s.chunk.savedVersion) this.queue(s.chunk);
  }

  private drop(c: HeadChunk): void {
    const sh = c.series;
    sh.chunks = without(sh.chunks, c);
    c.appender.release();
    if (sh.current === c) sh.current = null;
    if (sh.chunks.length === 0 && this.bySid.get(sh.sid) === sh) {
      this.bySid.delete(sh.sid);
      sh.detached = true;
    }
  }
}

/** `chunks` less `c`, in a list made to size. */
function without(chunks: readonly HeadChunk[], c: HeadChunk): readonly HeadChunk[] {
  const i = chunks.indexOf(c);
  if (i < 0) return chunks;
  if (chunks.length === 1) return NO_CHUNKS;
  const out = new Array<HeadChunk>(chunks.length - 1);
  for (let j = 0, k = 0; j < chunks.length; j++) if (j !== i) out[k++] = chunks[j]!;
  return out;
}
