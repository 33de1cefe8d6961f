/**
 * Sends samples to one remote-write receiver: a bounded queue split into shards by series (so
 * each series stays in order), batches of at most max_samples_per_send or whatever waited
 * batch_send_deadline, retries with capped exponential backoff on 5xx, 429 and connection
 * errors (a Retry-After header sets the wait), and no retry on other 4xx. Every sample that is
 * not delivered is counted by reason. With a queue_dir, what is still queued at shutdown is
 * written there and sent after the next start.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Label } from '../model/labels.js';
import type { RemoteWriteConfig } from './config.js';
import type { AgentMetrics, DropReason } from './metrics.js';
import type { RemoteClient } from './remote-client.js';
import { SampleQueue } from './sample-queue.js';
import { labelsKey, type SampleBatch, type SampleSink } from './samples.js';
import { encodeWriteRequest, type EncodableSeries } from './write-request.js';

export interface RemoteWriterOptions {
  readonly config: RemoteWriteConfig;
  readonly client: RemoteClient;
  readonly metrics?: AgentMetrics;
  readonly queueDir?: string;
  readonly nowMs?: () => number;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
  /** With queueDir: how often what is queued is written there, so a crash loses at most this much. */
  readonly checkpointIntervalMs?: number;
}

interface Shard {
  readonly queue: SampleQueue;
  wake: (() => void) | undefined;
  /** The batch being sent, kept so an aborted shutdown can spill it. */
  inFlight: EncodableSeries[] | undefined;
  done: Promise<void>;
}

export class RemoteWriter implements SampleSink {
  private readonly shards: Shard[];
  private readonly abort = new AbortController();
  private closing = false;
  private started = false;
  private readonly nowMs: () => number;
  private readonly name: string;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  /** Whether the queue file in queueDir may hold samples. */
  private spillOnDisk = false;

  constructor(private readonly options: RemoteWriterOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.name = options.config.name;
    this.shards = Array.from({ length: options.config.queue.maxShards }, () => ({
      queue: new SampleQueue(),
      wake: undefined,
      inFlight: undefined,
      done: Promise.resolve(),
    }));
  }

  /** Samples waiting in all shards. */
  get queuedSamples(): number {
    return this.shards.reduce((n, s) => n + s.queue.length, 0);
  }

  /** Loads what a previous run left in queue_dir, then starts the shards. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const dir = this.options.queueDir;
    if (dir !== undefined) {
      await this.loadSpill(dir);
      const every = this.options.checkpointIntervalMs ?? 5000;
      const tick = (): void => {
        if (this.closing) return;
        this.checkpointTimer = setTimeout(() => {
          this.checkpointing = this.checkpoint(dir).then(tick, (err: unknown) => {
            this.options.log?.('queue_dir: checkpoint failed', { remote: this.name, message: String(err) });
            tick();
          });
        }, every);
      };
      tick();
    }
    for (const shard of this.shards) shard.done = this.runShard(shard);
  }

  /**
   * Writes what is queued or in flight to queue_dir, or removes the file once nothing is. Samples
   * sent after a checkpoint are sent again after a crash; Metricstor keeps one sample per
   * timestamp, so that costs nothing but the traffic.
   */
  private async checkpoint(dir: string): Promise<void> {
    if (this.closing) return;
    const series: EncodableSeries[] = [];
    for (const s of this.shards) {
      if (s.inFlight !== undefined) series.push(...s.inFlight);
      series.push(...s.queue.peekAll());
    }
    if (series.length > 0) {
      await this.writeSpill(dir, series);
      this.spillOnDisk = true;
    } else if (this.spillOnDisk) {
      await rm(this.spillFile(dir), { force: true });
      this.spillOnDisk = false;
    }
  }

  /** Queues a scrape's samples; what does not fit in capacity is dropped and counted as queue_full. */
  append(batch: SampleBatch): void {
    const { capacity, maxSamplesPerSend } = this.options.config.queue;
    if (this.closing) {
      this.drop(batch.series.length, 'shutdown');
      return;
    }
    const now = this.nowMs();
    let queued = this.queuedSamples;
    let dropped = 0;
    for (let i = 0; i < batch.series.length; i++) {
      if (queued >= capacity) {
        dropped++;
        continue;
      }
      const labels = batch.series[i]!;
      const key = labelsKey(labels);
      const shard = this.shards[hashKey(key) % this.shards.length]!;
      shard.queue.push(key, labels, batch.timestampsMs[i]!, batch.values, i, now);
      queued++;
      // Wake the shard when its first sample arrives (to start the deadline) and when a batch is full.
      if (shard.queue.length === 1 || shard.queue.length >= maxSamplesPerSend) shard.wake?.();
    }
    if (dropped > 0) this.drop(dropped, 'queue_full');
    this.updateGauges();
  }

  /**
   * Sends what is queued, for at most flushTimeoutMs; then stops. Whatever is left is written to
   * queue_dir when set, else counted as dropped (shutdown).
   */
  async close(flushTimeoutMs: number): Promise<void> {
    this.closing = true;
    clearTimeout(this.checkpointTimer);
    await this.checkpointing;
    for (const s of this.shards) s.wake?.();
    const all = Promise.all(this.shards.map((s) => s.done));
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      all.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), flushTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!flushed) {
      this.abort.abort();
      await all;
    }
    const left: EncodableSeries[] = [];
    let leftCount = 0;
    for (const s of this.shards) {
      if (s.inFlight !== undefined) {
        left.push(...s.inFlight);
        leftCount += countOf(s.inFlight);
        s.inFlight = undefined;
      }
      const rest = s.queue.take(s.queue.length, this.nowMs());
      left.push(...rest.series);
      leftCount += rest.count;
    }
    const dir = this.options.queueDir;
    if (leftCount > 0) {
      if (dir !== undefined) await this.writeSpill(dir, left);
      else this.drop(leftCount, 'shutdown');
    } else if (dir !== undefined && this.spillOnDisk) {
      await rm(this.spillFile(dir), { force: true });
      this.spillOnDisk = false;
    }
    this.updateGauges();
    this.options.client.close();
  }

  private async runShard(shard: Shard): Promise<void> {
    const { maxSamplesPerSend, batchSendDeadlineMs } = this.options.config.queue;
    for (;;) {
      if (this.abort.signal.aborted) return;
      const n = shard.queue.length;
      if (n === 0) {
        if (this.closing) return;
        await this.sleepUntilWoken(shard, Infinity);
        continue;
      }
      const waitMs = shard.queue.oldestQueuedMs + batchSendDeadlineMs - this.nowMs();
      if (n < maxSamplesPerSend && !this.closing && waitMs > 0) {
        await this.sleepUntilWoken(shard, waitMs);
        continue;
      }
      const batch = shard.queue.take(maxSamplesPerSend, this.nowMs());
      this.updateGauges();
      shard.inFlight = batch.series;
      await this.sendWithRetries(batch.series, batch.count);
      if (!this.abort.signal.aborted) shard.inFlight = undefined;
    }
  }

  private async sendWithRetries(series: EncodableSeries[], count: number): Promise<void> {
    const { minBackoffMs, maxBackoffMs } = this.options.config.queue;
    const { metrics } = this.options;
    const body = encodeWriteRequest(series);
    let backoffMs = minBackoffMs;
    for (;;) {
      let status = 0;
      let retryAfterMs: number | undefined;
      let message: string;
      try {
        const res = await this.options.client.post(body, this.abort.signal);
        status = res.status;
        retryAfterMs = res.retryAfterMs;
        message = res.message;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        message = err instanceof Error ? err.message : String(err);
      }
      if (status >= 200 && status < 300) {
        metrics?.samplesSent.inc({ remote: this.name }, count);
        return;
      }
      if (status >= 400 && status < 500 && status !== 429) {
        this.drop(count, 'rejected');
        this.options.log?.('remote write rejected; samples dropped', { remote: this.name, status, message, samples: count });
        return;
      }
      metrics?.samplesRetried.inc({ remote: this.name }, count);
      const delayMs = retryAfterMs ?? backoffMs;
      this.options.log?.('remote write failed; retrying', { remote: this.name, status, message, samples: count, delayMs });
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      if (!(await this.sleep(delayMs))) return;
    }
  }

  private sleepUntilWoken(shard: Shard, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        shard.wake = undefined;
        resolve();
      };
      if (Number.isFinite(ms)) timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      shard.wake = done;
    });
  }

  /** Resolves true after ms, false if the writer was aborted first. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve(false);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private drop(count: number, reason: DropReason): void {
    this.options.metrics?.samplesDropped.inc({ remote: this.name, reason }, count);
  }

  private updateGauges(): void {
    const { metrics } = this.options;
    if (metrics === undefined) return;
    metrics.queueSamples.set({ remote: this.name }, this.queuedSamples);
    metrics.queueBytes.set({ remote: this.name }, this.shards.reduce((n, s) => n + s.queue.bytes, 0));
  }

  private spillFile(dir: string): string {
    return path.join(dir, `${this.name.replace(/[^A-Za-z0-9._-]/g, '_')}.queue.jsonl`);
  }

  /** One JSON line per series: labels, timestamps, and the values' bytes in hex (bit-exact). */
  private async writeSpill(dir: string, series: EncodableSeries[]): Promise<void> {
    await mkdir(dir, { recursive: true });
    const lines = series.map((s) =>
      JSON.stringify({
        l: s.labels.map((l) => [l.name, l.value]),
        t: Array.from(s.timestampsMs),
        v: Buffer.from(s.values.buffer, s.values.byteOffset, s.values.byteLength).toString('hex'),
      }),
    );
    const file = this.spillFile(dir);
    await writeFile(`${file}.tmp`, `${lines.join('\n')}\n`);
    await rename(`${file}.tmp`, file);
  }

  private async loadSpill(dir: string): Promise<void> {
    const file = this.spillFile(dir);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return;
    }
    let unreadable = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const entry = parseSpillLine(line);
      if (entry === undefined) {
        unreadable++;
        continue;
      }
      this.append(entry);
    }
    // A damaged line's sample count is unknown, so it can only be logged, not counted as dropped.
    if (unreadable > 0) this.options.log?.('queue_dir: unreadable lines skipped', { remote: this.name, file, lines: unreadable });
    // The file stays until the next checkpoint or shutdown replaces or removes it: a crash before
    // then sends these samples once more rather than losing them.
    this.spillOnDisk = true;
  }
}

/** One spilled series back as a batch; undefined when the line is not what writeSpill wrote. */
function parseSpillLine(line: string): SampleBatch | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { l, t, v } = parsed as Record<string, unknown>;
  if (!Array.isArray(l) || !Array.isArray(t) || typeof v !== 'string' || v.length !== t.length * 16) return undefined;
  if (!l.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')) return undefined;
  if (!t.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) return undefined;
  const labels: Label[] = (l as [string, string][]).map(([name, value]) => ({ name, value }));
  const values = new Float64Array(t.length);
  new Uint8Array(values.buffer).set(Buffer.from(v, 'hex'));
  return { series: t.map(() => labels), timestampsMs: Float64Array.from(t as number[]), values };
}

function countOf(series: readonly EncodableSeries[]): number {
  return series.reduce((n, s) => n + s.timestampsMs.length, 0);
}

/** FNV-1a over UTF-16 code units. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
