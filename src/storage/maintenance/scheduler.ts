import { MetricstorError, errorMessage } from '../../errors.js';
import type { KvStore } from '../../kv/kv.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { Lease, readLease } from './lease.js';

/** What a job sees while it runs. */
export interface JobContext {
  /** The time the run started, by the scheduler's clock. */
  readonly startedAtMs: number;
  /** Turns false once the job's lease is lost or the scheduler is stopping; check between pages. */
  shouldContinue(): boolean;
}

/** One kind of background work, run by whichever node holds the lease named after it. */
export interface MaintenanceJob {
  /** Also the lease name, e.g. "retention" or "compaction". */
  readonly name: string;
  /** Time between the end of one run and the start of the next. */
  readonly intervalMs: number;
  /** Does one pass; resolves to a summary kept in the status for self-monitoring. */
  run(ctx: JobContext): Promise<unknown>;
}

export interface JobStatus {
  readonly name: string;
  /** Whether this node holds the job's lease, by the local clock. */
  readonly leaseHeld: boolean;
  readonly running: boolean;
  readonly runs: number;
  readonly failures: number;
  readonly lastStartMs: number | null;
  readonly lastEndMs: number | null;
  readonly lastDurationMs: number | null;
  readonly lastError: string | null;
  readonly lastSummary: unknown;
}

export interface SchedulerOptions {
  readonly kv: KvStore;
  /** This node's id as written into leases; unique among the nodes sharing the KV. */
  readonly holderId: string;
  readonly jobs: readonly MaintenanceJob[];
  /** Lease lifetime without renewal (default 60 s); the scheduler renews every third of it. */
  readonly leaseTtlMs?: number;
  readonly clock?: Clock;
}

interface JobState {
  readonly job: MaintenanceJob;
  readonly lease: Lease;
  running: Promise<void> | null;
  runs: number;
  failures: number;
  lastStartMs: number | null;
  lastEndMs: number | null;
  lastError: string | null;
  lastSummary: unknown;
}

const DEFAULT_LEASE_TTL_MS = 60_000;

/**
 * Runs each job periodically on the one node that holds its lease. Every tick (a third of the
 * lease TTL) renews the leases this node holds, tries to take the ones it does not, and starts
 * the jobs that are due. A job never runs twice at once on a node, and only on the lease holder
 * across nodes; a holder that dies loses its leases after the TTL and another node carries on.
 * Jobs must be safe to interrupt and re-run: they stop between pages when shouldContinue() is false.
 */
export class MaintenanceScheduler {
  private readonly states: JobState[];
  private readonly kv: KvStore;
  private readonly clock: Clock;
  readonly tickIntervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private leaseWork: Promise<void> | null = null;

  constructor(options: SchedulerOptions) {
    const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.kv = options.kv;
    this.clock = options.clock ?? systemClock;
    this.tickIntervalMs = Math.max(1, Math.floor(ttlMs / 3));
    this.states = options.jobs.map((job) => ({
      job,
      lease: new Lease(options.kv, job.name, options.holderId, { ttlMs, clock: this.clock }),
      running: null,
      runs: 0,
      failures: 0,
      lastStartMs: null,
      lastEndMs: null,
      lastError: null,
      lastSummary: null,
    }));
  }

  /** Ticks on a timer until stop(); the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== null || this.stopping) return;
    this.timer = setInterval(() => void this.tick(), this.tickIntervalMs);
    this.timer.unref();
    void this.tick();
  }

  /**
   * One round: renew or take leases, then start every due job whose lease is held. Resolves when
   * the runs started by this tick have finished (the timer does not wait; tests do).
   */
  async tick(): Promise<void> {
    if (this.stopping) return;
    if (this.leaseWork === null) {
      this.leaseWork = this.refreshLeases();
      try {
        await this.leaseWork;
      } finally {
        this.leaseWork = null;
      }
    }
    const started: Promise<void>[] = [];
    for (const state of this.states) {
      if (this.stopping || state.running !== null || !state.lease.isHeld() || !this.due(state)) continue;
      state.running = this.runJob(state).finally(() => {
        state.running = null;
      });
      started.push(state.running);
    }
    await Promise.all(started);
  }

  /** Stops ticking, lets running jobs reach their next page boundary, then releases the leases. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.leaseWork;
    await Promise.all(this.states.map((s) => s.running));
    await Promise.all(
      this.states.map((s) => s.lease.release().catch(() => undefined)),
    );
  }

  /**
   * Runs `work` now under the lease of the job `name`, as an operator's request (compaction on
   * request): after any run of that job on this node has finished, and with the job kept from
   * starting meanwhile. When another node holds the lease the answer is at once an `unavailable`
   * error naming it: a live holder renews its lease all the time, so waiting would not get it.
   * The work stops between pages (shouldContinue) when the lease is lost or the scheduler stops.
   * Such runs are not counted in status(), which reports the scheduled ones.
   */
  async runNow<T>(name: string, work: (ctx: JobContext) => Promise<T>): Promise<T> {
    const state = this.states.find((s) => s.job.name === name);
    if (state === undefined) throw new MetricstorError('not_found', `no maintenance job named ${name}`);
    while (state.running !== null) await state.running;
    if (this.stopping) throw new MetricstorError('unavailable', `${name}: maintenance is stopping`);
    const run = this.runUnderLease(state, work);
    state.running = run.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      state.running = null;
    });
    return run;
  }

  status(): JobStatus[] {
    return this.states.map((s) => ({
      name: s.job.name,
      leaseHeld: s.lease.isHeld(),
      running: s.running !== null,
      runs: s.runs,
      failures: s.failures,
      lastStartMs: s.lastStartMs,
      lastEndMs: s.lastEndMs,
      lastDurationMs: s.lastStartMs !== null && s.lastEndMs !== null ? s.lastEndMs - s.lastStartMs : null,
      lastError: s.lastError,
      lastSummary: s.lastSummary,
    }));
  }

  private async refreshLeases(): Promise<void> {
    await Promise.all(
      this.states.map(async (s) => {
        try {
          await s.lease.acquire();
        } catch (err) {
          s.lastError = `lease: ${errorMessage(err)}`;
        }
      }),
    );
  }

  private async runUnderLease<T>(state: JobState, work: (ctx: JobContext) => Promise<T>): Promise<T> {
    if (!state.lease.isHeld() && !(await this.acquireOutsideTick(state))) {
      const record = await readLease(this.kv, state.job.name);
      const why =
        record === null
          ? 'changed hands while this node tried to take it; retry'
          : `is held by ${record.holder}; send the request to that node (or retry after ${new Date(record.expiresAtMs).toISOString()} if it has stopped)`;
      throw new MetricstorError('unavailable', `the ${state.job.name} lease ${why}`);
    }
    const startedAtMs = this.clock.nowMs();
    return work({ startedAtMs, shouldContinue: () => !this.stopping && state.lease.isHeld() });
  }

  /** Takes a job's lease between ticks: lease changes of one node never run at once. */
  private async acquireOutsideTick(state: JobState): Promise<boolean> {
    while (this.leaseWork !== null) await this.leaseWork;
    const acquiring = state.lease.acquire();
    this.leaseWork = acquiring.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await acquiring;
    } finally {
      this.leaseWork = null;
    }
  }

  private due(state: JobState): boolean {
    return state.lastEndMs === null || this.clock.nowMs() - state.lastEndMs >= state.job.intervalMs;
  }

  private async runJob(state: JobState): Promise<void> {
    const startedAtMs = this.clock.nowMs();
    state.lastStartMs = startedAtMs;
    const ctx: JobContext = {
      startedAtMs,
      shouldContinue: () => !this.stopping && state.lease.isHeld(),
    };
    try {
      state.lastSummary = await state.job.run(ctx);
      state.lastError = null;
    } catch (err) {
      state.failures++;
      state.lastError = errorMessage(err);
    } finally {
      state.runs++;
      state.lastEndMs = this.clock.nowMs();
    }
  }
}
