import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MetricstorError } from '../../errors.js';
import { LabelIdTable } from './label-ids.js';
import { ownedBytes, replyBuffers, type DecodeJob, type DecodeReply, type RecycleBuffers, type RemoteWriteVersion } from './protocol.js';

/** Decode workers when the setting is left unset: one per core beyond the event loop's, at least one, at most this many. */
export const MAX_DEFAULT_DECODE_WORKERS = 4;

export function defaultDecodeWorkers(): number {
  return Math.max(1, Math.min(MAX_DEFAULT_DECODE_WORKERS, os.availableParallelism() - 1));
}

/**
 * A worker's young generation (V8's default is up to 48 MiB, all of it resident once used). A
 * worker keeps its bytes in pooled ArrayBuffers outside the heap and allocates only small,
 * short-lived objects on it, so a small young generation costs it little CPU and saves the
 * process that much memory (docs/benchmarks.md, "Young generations").
 */
export const DECODE_WORKER_YOUNG_GENERATION_MB = 6;

/** A worker that failed this soon after it started is replaced only after the same delay, so a broken entry cannot spin. */
const QUICK_FAILURE_MS = 1000;

/** A worker's reply, with the main thread's table of that worker's label ids. */
export interface PoolAnswer {
  readonly reply: DecodeReply;
  readonly labelIds: LabelIdTable;
  /**
   * Moves the reply's buffers back to their worker for its next replies: call it once nothing
   * reads the reply, or anything made as a view of it, any more (after that they read as empty).
   * Calling it again does nothing; an answer never released only costs its worker new buffers.
   */
  readonly release: () => void;
}

interface Pending {
  readonly resolve: (answer: PoolAnswer) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly startedMs: number;
  readonly pending: Map<number, Pending>;
  /** Dropped with the worker: a replacement starts its ids afresh. */
  readonly labelIds: LabelIdTable;
  stopped: boolean;
}

/**
 * Threads that decompress and scan remote write bodies, so that the event loop spends its time on
 * storage. Callers bound the work in flight (each job is sent from inside a WriteQueue slot); a
 * job goes to the worker with the fewest jobs. A worker that dies fails its jobs with
 * `unavailable` (503, the sender retries) and is replaced.
 */
export class DecodePool {
  private readonly slots: (Slot | undefined)[];
  private readonly respawnTimers = new Set<NodeJS.Timeout>();
  private nextId = 1;
  private closed = false;

  /** `spawn` makes one worker thread (tests pass their own). */
  constructor(
    readonly size: number,
    private readonly spawn: () => Worker = spawnDecodeWorker,
  ) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`decode workers must be a positive integer, got ${size}`);
    this.slots = new Array<Slot | undefined>(size);
    for (let i = 0; i < size; i++) this.start(i);
  }

  /** Worker threads running now (fewer than size only while a failed one waits to be replaced). */
  get running(): number {
    return this.slots.filter((s) => s !== undefined).length;
  }

  /** Sends a compressed body to a worker; the body's bytes may be moved there (do not use them after). */
  decode(version: RemoteWriteVersion, body: Uint8Array, maxDecodedBytes: number): Promise<PoolAnswer> {
    const slot = this.pick();
    if (slot === undefined) {
      return Promise.reject(new MetricstorError('unavailable', this.closed ? 'decode workers are closed' : 'no decode worker is running; retry later'));
    }
    const id = this.nextId++;
    const bytes = ownedBytes(body);
    const job: DecodeJob = { kind: 'decode', id, version, body: bytes, maxDecodedBytes };
    return new Promise<PoolAnswer>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      try {
        slot.worker.postMessage(job, [bytes.buffer as ArrayBuffer]);
      } catch {
        // Memory the platform will not move (a pooled or external buffer): send a copy.
        slot.worker.postMessage({ ...job, body: Uint8Array.from(bytes) });
      }
    });
  }

  /** Stops every worker; jobs in flight fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.respawnTimers) clearTimeout(timer);
    this.respawnTimers.clear();
    const stopping: Promise<number>[] = [];
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      if (slot === undefined) continue;
      this.slots[i] = undefined;
      this.fail(slot, 'decode workers are closed');
      stopping.push(slot.worker.terminate());
    }
    await Promise.all(stopping);
  }

  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot !== undefined && (best === undefined || slot.pending.size < best.pending.size)) best = slot;
    }
    return best;
  }

  private start(index: number): void {
    const worker = this.spawn();
    worker.unref();
    const slot: Slot = { worker, startedMs: Date.now(), pending: new Map(), labelIds: new LabelIdTable(), stopped: false };
    this.slots[index] = slot;
    worker.on('message', (reply: DecodeReply) => {
      const pending = slot.pending.get(reply.id);
      if (pending === undefined) return;
      slot.pending.delete(reply.id);
      pending.resolve({ reply, labelIds: slot.labelIds, release: this.releaser(index, slot, reply) });
    });
    worker.on('error', (err) => this.lost(index, slot, `decode worker failed: ${err.message}`));
    worker.on('exit', (code) => this.lost(index, slot, `decode worker exited with code ${code}`));
  }

  private releaser(index: number, slot: Slot, reply: DecodeReply): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // A worker that stopped or was replaced gets nothing back; the collector frees its buffers.
      if (slot.stopped || this.slots[index] !== slot) return;
      const buffers = replyBuffers(reply).filter((b) => b.byteLength > 0);
      if (buffers.length === 0) return;
      const message: RecycleBuffers = { kind: 'recycle', buffers };
      slot.worker.postMessage(message, buffers);
    };
  }

  /** A worker died: its jobs fail and it is replaced (at once, or after a pause if it died young). */
  private lost(index: number, slot: Slot, reason: string): void {
    if (slot.stopped) return;
    this.fail(slot, `${reason}; retry`);
    void slot.worker.terminate();
    if (this.closed || this.slots[index] !== slot) return;
    this.slots[index] = undefined;
    const delay = Date.now() - slot.startedMs < QUICK_FAILURE_MS ? QUICK_FAILURE_MS : 0;
    const timer = setTimeout(() => {
      this.respawnTimers.delete(timer);
      if (!this.closed) this.start(index);
    }, delay);
    timer.unref();
    this.respawnTimers.add(timer);
  }

  private fail(slot: Slot, message: string): void {
    slot.stopped = true;
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) p.reject(new MetricstorError('unavailable', message));
  }
}

/**
 * Starts the worker module next to this one: the compiled .js, or under the tsx loader (tests,
 * `tsx` scripts) the .ts source, through tsx's require hook, since a worker does not run the
 * parent's --import hooks before its entry.
 */
export function spawnDecodeWorker(): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: DECODE_WORKER_YOUNG_GENERATION_MB };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { resourceLimits });
  const source = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const entry = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(source)});`;
  return new Worker(entry, { eval: true, resourceLimits });
}
