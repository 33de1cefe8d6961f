/** /api/v1/series, /labels, /label/:name/values and /metadata. */
import { badData, isMetricstorError } from '../../errors.js';
import { isValidLabelName } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';
import type { LabelQuery, MetricMetadata } from '../../storage/types.js';
import type { ApiDeps } from '../deps.js';
import { TRUNCATED_WARNING, type ApiHandler, type ApiRequest } from '../handler.js';
import { compareUtf8 } from '../format.js';
import { labelsObject } from '../json.js';
import {
  invalidParam,
  limitParam,
  matcherSetsParam,
  MAX_TIME_MS,
  MIN_TIME_MS,
  optionalTimeParam,
  parseGoInt,
} from '../params.js';

/**
 * start, end, match[] and limit as the label and series endpoints read them. The storage is asked
 * for one more than the limit, so that a cut can be reported with a warning.
 */
function labelQuery(req: ApiRequest, deps: ApiDeps, match: MatchErrors): { query: LabelQuery; limit: number } {
  const startMs = optionalTimeParam(req.params, 'start', MIN_TIME_MS);
  const endMs = optionalTimeParam(req.params, 'end', MAX_TIME_MS);
  const matcherSets = matchers(req, deps, match);
  const limit = limitParam(req.params);
  const query: LabelQuery = limit > 0 ? { matcherSets, startMs, endMs, limit: limit + 1 } : { matcherSets, startMs, endMs };
  return { query, limit };
}

/** Prometheus words a bad match[] as an invalid parameter for series, but bare for label lookups. */
export type MatchErrors = 'wrapped' | 'bare';

export function matchers(req: ApiRequest, deps: ApiDeps, errors: MatchErrors): Matcher[][] {
  try {
    return matcherSetsParam(req.params, deps.promql.parseSeriesSelector);
  } catch (err) {
    if (errors === 'wrapped' && isMetricstorError(err) && err.type === 'bad_data') throw invalidParam('match[]', err.message);
    throw err;
  }
}

function capped<T>(items: T[], limit: number): { data: T[]; warnings: string[] } {
  if (limit > 0 && items.length > limit) return { data: items.slice(0, limit), warnings: [TRUNCATED_WARNING] };
  return { data: items, warnings: [] };
}

export const series: ApiHandler = async (req, deps) => {
  if (req.params.getAll('match[]').length === 0) throw badData('no match[] parameter provided');
  const { query, limit } = labelQuery(req, deps, 'wrapped');
  const found = await deps.storage.series(query);
  return capped(found.map(labelsObject), limit);
};

export const labelNames: ApiHandler = async (req, deps) => {
  const { query, limit } = labelQuery(req, deps, 'bare');
  const names = await deps.storage.labelNames(query);
  return capped([...names].sort(compareUtf8), limit);
};

export const labelValues: ApiHandler = async (req, deps) => {
  const name = req.pathParams['name'] ?? '';
  if (!isValidLabelName(name)) throw badData(`invalid label name: ${JSON.stringify(name)}`);
  const { query, limit } = labelQuery(req, deps, 'bare');
  const values = await deps.storage.labelValues(name, query);
  return capped([...values].sort(compareUtf8), limit);
};

/** limit: most metric names (negative = all, 0 = none); limit_per_metric: most entries per name. */
export const metadata: ApiHandler = async (req, deps) => {
  const limit = optionalInt(req.params.get('limit'), -1, 'limit must be a number');
  const perMetric = optionalInt(req.params.get('limit_per_metric'), -1, 'limit_per_metric must be a number');
  const metric = req.params.get('metric');
  const out: Record<string, { type: string; help: string; unit: string }[]> = {};
  if (limit === 0) return { data: out };
  const found = await deps.storage.metadata(metric === '' ? undefined : metric, limit > 0 ? limit : undefined);
  let names = 0;
  for (const [name, entries] of found) {
    if (limit > 0 && names >= limit) break;
    const unique = dedupe(entries);
    out[name] = (perMetric > 0 ? unique.slice(0, perMetric) : unique).map((m) => ({
      type: m.type,
      help: m.help,
      unit: m.unit,
    }));
    names++;
  }
  return { data: out };
};

function optionalInt(text: string, fallback: number, message: string): number {
  if (text === '') return fallback;
  try {
    return parseGoInt(text);
  } catch {
    throw badData(message);
  }
}

function dedupe(entries: readonly MetricMetadata[]): MetricMetadata[] {
  const seen = new Set<string>();
  return entries.filter((m) => {
    const key = `${m.type}\u0000${m.help}\u0000${m.unit}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
