/**
 * Answers of the Prometheus HTTP query API (/api/v1/query, /api/v1/query_range) in a form two
 * systems' answers can be compared in: series sorted by label set, so the order a system emits them
 * in does not matter, and values equal within a relative tolerance.
 */
import { compareLabels, formatLabels, sortLabels, type Labels } from '../../src/model/labels.js';

interface AnswerSeries {
  readonly labels: Labels;
  /** Times in ms and values, in time order. */
  readonly times: readonly number[];
  readonly values: readonly number[];
}

export type QueryAnswer =
  | { readonly ok: true; readonly resultType: string; readonly series: readonly AnswerSeries[] }
  | { readonly ok: false; readonly error: string };

/** Largest relative difference of two values taken as equal. */
export const RELATIVE_TOLERANCE = 1e-6;
/** Differences below this are taken as equal whatever the values (summation-order noise around 0). */
const ABSOLUTE_TOLERANCE = 1e-12;

type JsonPoint = readonly [number, string];
interface ApiBody {
  readonly status?: string;
  readonly error?: string;
  readonly data?: { readonly resultType: string; readonly result: unknown };
}

function sampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function labelsOf(metric: Readonly<Record<string, string>>): Labels {
  return sortLabels(Object.entries(metric).map(([name, value]) => ({ name, value })));
}

function seriesOf(metric: Readonly<Record<string, string>>, points: readonly JsonPoint[]): AnswerSeries {
  return { labels: labelsOf(metric), times: points.map(([t]) => Math.round(t * 1000)), values: points.map(([, v]) => sampleValue(v)) };
}

/** Reads one response body (the HTTP status only matters when the body is not the API's JSON). */
export function parseAnswer(httpStatus: number, body: string): QueryAnswer {
  let parsed: ApiBody;
  try {
    parsed = JSON.parse(body) as ApiBody;
  } catch {
    return { ok: false, error: `HTTP ${httpStatus}: ${body.slice(0, 200)}` };
  }
  if (parsed.status !== 'success' || parsed.data === undefined) return { ok: false, error: parsed.error ?? `HTTP ${httpStatus}` };
  const { resultType, result } = parsed.data;
  let series: AnswerSeries[] = [];
  if (resultType === 'matrix') {
    series = (result as { metric: Record<string, string>; values: JsonPoint[] }[]).map((s) => seriesOf(s.metric, s.values));
  } else if (resultType === 'vector') {
    series = (result as { metric: Record<string, string>; value: JsonPoint }[]).map((s) => seriesOf(s.metric, [s.value]));
  } else if (resultType === 'scalar') {
    series = [seriesOf({}, [result as JsonPoint])];
  }
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  return { ok: true, resultType, series };
}

/** Series and points in an answer (0 for an error). */
export function answerSize(answer: QueryAnswer): { series: number; points: number } {
  if (!answer.ok) return { series: 0, points: 0 };
  return { series: answer.series.length, points: answer.series.reduce((n, s) => n + s.times.length, 0) };
}

export function valuesAgree(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(a - b);
  return diff <= ABSOLUTE_TOLERANCE || diff <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Null when the two answers agree (both errors count as agreeing: the query is invalid for both),
 * else the first difference, `ours` and `theirs` named by the systems.
 */
export function answersDiffer(ours: QueryAnswer, theirs: QueryAnswer, oursName: string, theirsName: string): string | null {
  if (!ours.ok || !theirs.ok) {
    if (!ours.ok && !theirs.ok) return null;
    return ours.ok ? `${theirsName} failed (${errorOf(theirs)}), ${oursName} answered` : `${oursName} failed (${errorOf(ours)}), ${theirsName} answered`;
  }
  if (ours.resultType !== theirs.resultType) return `result type ${ours.resultType} vs ${theirs.resultType}`;
  if (ours.series.length !== theirs.series.length) {
    const sample = (a: QueryAnswer & { ok: true }): string => a.series.slice(0, 3).map((s) => formatLabels(s.labels)).join(' ');
    return `${ours.series.length} series vs ${theirs.series.length} (${oursName}: ${sample(ours)} … | ${theirsName}: ${sample(theirs)} …)`;
  }
  for (let i = 0; i < ours.series.length; i++) {
    const a = ours.series[i]!;
    const b = theirs.series[i]!;
    if (compareLabels(a.labels, b.labels) !== 0) return `series ${formatLabels(a.labels)} vs ${formatLabels(b.labels)}`;
    if (a.times.length !== b.times.length) return `${formatLabels(a.labels)}: ${a.times.length} points vs ${b.times.length}`;
    for (let j = 0; j < a.times.length; j++) {
      if (a.times[j] !== b.times[j] || !valuesAgree(a.values[j]!, b.values[j]!)) {
        return `${formatLabels(a.labels)} point ${j}: ${a.values[j]}@${a.times[j]} vs ${b.values[j]}@${b.times[j]}`;
      }
    }
  }
  return null;
}

function errorOf(answer: QueryAnswer): string {
  return answer.ok ? '' : answer.error.slice(0, 200);
}
