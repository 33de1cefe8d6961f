import type { KvStore } from '../../kv/kv.js';
import { WINDOW_MS, windowStartOfMs } from '../keys.js';
import type { CompactionSummary } from './compaction.js';
import { compactClosedWindows } from './compaction.js';

export interface CompactNowDeps {
  readonly kv: KvStore;
  /** Closes and writes every open chunk of this node's head (Storage.closeOpenChunks). */
  readonly closeOpenChunks: () => Promise<void>;
  /**
   * Gives freed space back to the file system (EmbeddedKv.reclaimSpace); absent for other KVs.
   * `windowsRewritten`: the pass replaced chunks with blocks, which leaves leaf pages part empty
   * rather than whole pages free, so only a rewrite of the file shows what the data needs.
   */
  readonly reclaimSpace?: (windowsRewritten: boolean) => Promise<unknown>;
}

export interface CompactNowSummary {
  readonly compaction: CompactionSummary;
  readonly reclaim: unknown;
}

/**
 * Everything written so far, compacted now instead of after the scheduler's grace period: this
 * node's open chunks are closed and written, every window up to the current one is rewritten into
 * compacted blocks (windows with an open chunk of another live writer are still left alone), and
 * the freed space goes back to the file system. Samples that arrive meanwhile go into new chunks,
 * which a later pass compacts. The caller holds the compaction lease (MaintenanceScheduler.runNow)
 * and passes its check: the pass stops between pages once it turns false.
 */
export async function compactNow(deps: CompactNowDeps, nowMs: number, shouldContinue: () => boolean = () => true): Promise<CompactNowSummary> {
  await deps.closeOpenChunks();
  const compaction = await compactClosedWindows(deps.kv, { nowMs, closedBeforeMs: windowStartOfMs(nowMs) + WINDOW_MS, shouldContinue });
  const reclaim = deps.reclaimSpace === undefined || !shouldContinue() ? null : await deps.reclaimSpace(compaction.windowsCompacted > 0);
  return { compaction, reclaim };
}
