import type { KvStore } from '../../kv/kv.js';
import type { Clock } from './clock.js';
import { CompactionJob } from './compaction.js';
import { DEFAULT_RETENTION_MS, RetentionJob } from './retention.js';
import { MaintenanceScheduler } from './scheduler.js';

export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export { Lease, leaseExpired, listLeases, readLease, type LeaseOptions, type LeaseRecord } from './lease.js';
export { applyRetention, DEFAULT_RETENTION_MS, RetentionJob, type RetentionSummary } from './retention.js';
export { compactClosedWindows, CompactionJob, type CompactionJobSummary, type CompactionSummary } from './compaction.js';
export { compactNow, type CompactNowDeps, type CompactNowSummary } from './compact-now.js';
export { deleteSeriesData, type DeleteRequest, type DeleteSummary, type SeriesResolver } from './delete.js';
export { MaintenanceScheduler, type JobStatus, type MaintenanceJob } from './scheduler.js';

export interface MaintenanceOptions {
  readonly kv: KvStore;
  /** This node's id in the job leases; unique among the nodes sharing the KV. */
  readonly holderId: string;
  /** Default 15 days; 0 turns retention off. */
  readonly retentionMs?: number;
  /** Default one hour each. */
  readonly retentionIntervalMs?: number;
  readonly compactionIntervalMs?: number;
  /** Default 60 s. */
  readonly leaseTtlMs?: number;
  readonly clock?: Clock;
}

/**
 * A scheduler running retention and compaction on whichever node holds each job's lease. Call
 * start() once the storage is open and stop() before closing the KV; status() reports runs, the
 * last error and the last summary of each job.
 */
export function createMaintenance(options: MaintenanceOptions): MaintenanceScheduler {
  const clock = options.clock;
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const jobs = [];
  if (retentionMs > 0) {
    jobs.push(
      new RetentionJob({
        kv: options.kv,
        retentionMs,
        ...(options.retentionIntervalMs !== undefined ? { intervalMs: options.retentionIntervalMs } : {}),
        ...(clock !== undefined ? { clock } : {}),
      }),
    );
  }
  jobs.push(
    new CompactionJob({
      kv: options.kv,
      ...(options.compactionIntervalMs !== undefined ? { intervalMs: options.compactionIntervalMs } : {}),
      ...(clock !== undefined ? { clock } : {}),
    }),
  );
  return new MaintenanceScheduler({
    kv: options.kv,
    holderId: options.holderId,
    jobs,
    ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
    ...(clock !== undefined ? { clock } : {}),
  });
}
