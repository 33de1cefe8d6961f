/** /api/v1/admin/tsdb/*: destructive operations. */
import { MetricstorError, badData } from '../../errors.js';
import type { ApiHandler } from '../handler.js';
import { MAX_TIME_MS, MIN_TIME_MS, optionalTimeParam } from '../params.js';
import { NO_CONTENT } from '../respond.js';
import { matchers } from './series.js';

/** Deletes every sample of the matching series in [start, end]; answers 204 like Prometheus. */
export const deleteSeries: ApiHandler = async (req, deps) => {
  if (req.params.getAll('match[]').length === 0) throw badData('no match[] parameter provided');
  const startMs = optionalTimeParam(req.params, 'start', MIN_TIME_MS);
  const endMs = optionalTimeParam(req.params, 'end', MAX_TIME_MS);
  // Prometheus deletes whatever a selector matches; here one that matches every series is refused.
  const matcherSets = matchers(req, deps, 'wrapped');
  await deps.storage.deleteSeries({ matcherSets, startMs, endMs });
  return NO_CONTENT;
};

/** Deletion is immediate, so there are no tombstones to clean. */
export const cleanTombstones: ApiHandler = async () => NO_CONTENT;

/**
 * Compacts everything written so far now and answers with what was done: open chunks closed and
 * written, every window rewritten into compacted blocks, and freed file space given back. It runs
 * under the compaction lease: while another gateway holds it, the answer is a 503 naming that holder.
 */
export const compact: ApiHandler = async (_req, deps) => {
  if (deps.compactNow === undefined) throw new MetricstorError('not_found', 'compaction on request is not available on this server');
  return { data: await deps.compactNow() };
};
