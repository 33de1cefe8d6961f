/**
 * Request parameters as Prometheus reads them: times, durations, limits and match[] selectors, with
 * Prometheus's error texts. Times are milliseconds clamped to the safe-integer range; durations are
 * nanoseconds (as Go's time.Duration) so that validation matches Prometheus to the nanosecond.
 */
import { badData, MetricstorError } from '../errors.js';
import type { Matcher } from '../model/matchers.js';
import { compileMatcher } from '../model/matchers.js';

/** Parameters merged from a form body and the query string; body values come first, as in Go. */
export class RequestParams {
  private readonly values = new Map<string, string[]>();

  constructor(sources: readonly URLSearchParams[]) {
    for (const source of sources) {
      for (const [name, value] of source) {
        const list = this.values.get(name);
        if (list) list.push(value);
        else this.values.set(name, [value]);
      }
    }
  }

  /** The first value, or '' when absent (Go's r.FormValue). */
  get(name: string): string {
    return this.values.get(name)?.[0] ?? '';
  }

  getAll(name: string): readonly string[] {
    return this.values.get(name) ?? [];
  }
}

/** The error Prometheus gives for a bad parameter: `invalid parameter "<name>": <cause>`. */
export function invalidParam(name: string, cause: string): MetricstorError {
  return badData(`invalid parameter ${JSON.stringify(name)}: ${cause}`);
}

/** Stand-ins for Prometheus's minTime/maxTime, which are far outside the safe-integer range. */
export const MIN_TIME_MS = Number.MIN_SAFE_INTEGER;
export const MAX_TIME_MS = Number.MAX_SAFE_INTEGER;
/** How Prometheus formats its own min/max sentinel times; clients send them back verbatim. */
export const MIN_TIME_TEXT = '-292273086-05-16T16:47:06Z';
export const MAX_TIME_TEXT = '292277025-08-18T07:12:54.999999999Z';

const GO_FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const GO_INF = /^[+-]?inf(?:inity)?$/i;
const GO_NAN = /^nan$/i;

/** Go's strconv.ParseFloat(s, 64) for decimal input: undefined where Go reports an error. */
export function parseGoFloat(text: string): number | undefined {
  if (GO_NAN.test(text)) return NaN;
  if (GO_INF.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (!GO_FLOAT.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined; // Go reports out-of-range literals as errors
}

/**
 * Prometheus's parseTime: Unix seconds with the fraction rounded to milliseconds, RFC 3339 (with
 * offset and any number of fraction digits), or the two sentinel strings. Throws the bare cause.
 */
export function parseTime(text: string): number {
  const seconds = parseGoFloat(text);
  if (seconds !== undefined && !Number.isNaN(seconds)) return secondsToMs(seconds);
  const rfc = parseRfc3339(text);
  if (rfc !== undefined) return rfc;
  if (text === MIN_TIME_TEXT) return MIN_TIME_MS;
  if (text === MAX_TIME_TEXT) return MAX_TIME_MS;
  throw badData(`cannot parse ${JSON.stringify(text)} to a valid timestamp`);
}

function secondsToMs(seconds: number): number {
  if (seconds <= MIN_TIME_MS / 1000) return MIN_TIME_MS;
  if (seconds >= MAX_TIME_MS / 1000) return MAX_TIME_MS;
  // The same float steps as Go: math.Modf, round the fraction to ms, then whole nanoseconds.
  const whole = Math.trunc(seconds);
  const fraction = seconds - whole;
  const rounded = (Math.sign(fraction) * Math.round(Math.abs(fraction) * 1000)) / 1000;
  const nanos = Math.trunc(rounded * 1e9);
  return whole * 1000 + Math.floor(nanos / 1e6);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || day < 1) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined; // e.g. 2023-02-30
  date.setUTCHours(hour, minute, second, Number((m[7] ?? '').slice(0, 3).padEnd(3, '0')));
  let ms = date.getTime();
  const zone = m[8]!;
  if (zone !== 'Z') {
    const zoneHours = Number(zone.slice(1, 3));
    const zoneMinutes = Number(zone.slice(4, 6));
    if (zoneHours > 24 || zoneMinutes > 59) return undefined;
    const offsetMs = (zoneHours * 60 + zoneMinutes) * 60_000;
    ms += zone.startsWith('-') ? offsetMs : -offsetMs;
  }
  return ms;
}

/** A time parameter that may be absent: `Invalid time value for '<name>': …` as Prometheus says. */
export function optionalTimeParam(params: RequestParams, name: string, fallbackMs: number): number {
  const text = params.get(name);
  if (text === '') return fallbackMs;
  try {
    return parseTime(text);
  } catch (err) {
    throw invalidParam(name, `Invalid time value for '${name}': ${(err as Error).message}`);
  }
}

/** A required time parameter (range queries): a bad or missing value gives the bare cause. */
export function requiredTimeParam(params: RequestParams, name: string): number {
  try {
    return parseTime(params.get(name));
  } catch (err) {
    throw invalidParam(name, (err as Error).message);
  }
}

const MAX_INT64 = 9223372036854775807;
const MIN_INT64 = -9223372036854775808;

/**
 * Prometheus's parseDuration, in nanoseconds: float seconds (overflow checked against int64 ns) or a
 * Prometheus duration string such as 1h30m. `parseDurationMs` parses the latter (the PromQL parser's).
 */
export function parseDurationNs(text: string, parseDurationMs: (text: string) => number): number {
  const seconds = parseGoFloat(text);
  if (seconds !== undefined) {
    // Go converts NaN to the most negative int64, which every caller rejects as non-positive.
    if (Number.isNaN(seconds)) return MIN_INT64;
    const ns = seconds * 1e9;
    if (ns > MAX_INT64 || ns < MIN_INT64) {
      throw badData(`cannot parse ${JSON.stringify(text)} to a valid duration. It overflows int64`);
    }
    return Math.trunc(ns);
  }
  try {
    return parseDurationMs(text) * 1e6;
  } catch {
    throw badData(`cannot parse ${JSON.stringify(text)} to a valid duration`);
  }
}

/** Go's strconv.Atoi, with its error text. */
export function parseGoInt(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw badData(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw badData(`strconv.Atoi: parsing ${JSON.stringify(text)}: value out of range`);
  return n;
}

/** The `limit` parameter of newer Prometheus versions: 0 (the default) means no limit. */
export function limitParam(params: RequestParams, name = 'limit'): number {
  const text = params.get(name);
  if (text === '') return 0;
  let limit: number;
  try {
    limit = parseGoInt(text);
  } catch (err) {
    throw invalidParam(name, (err as Error).message);
  }
  if (limit < 0) throw invalidParam(name, 'limit must be non-negative');
  return limit;
}

export interface RangeParams {
  readonly startMs: number;
  readonly endMs: number;
  readonly stepMs: number;
}

/** Most points per series a range query may ask for (Prometheus's fixed cap). */
export const MAX_POINTS_PER_SERIES = 11_000;

/** start, end and step of a range query, validated in Prometheus's order and with its texts. */
export function rangeParams(params: RequestParams, parseDurationMs: (text: string) => number): RangeParams {
  const startMs = requiredTimeParam(params, 'start');
  const endMs = requiredTimeParam(params, 'end');
  if (endMs < startMs) throw invalidParam('end', 'end timestamp must not be before start time');
  let stepNs: number;
  try {
    stepNs = parseDurationNs(params.get('step'), parseDurationMs);
  } catch (err) {
    throw invalidParam('step', (err as Error).message);
  }
  const stepMs = Math.trunc(stepNs / 1e6);
  // Prometheus accepts a sub-millisecond step and then fails inside the engine; refuse it here.
  if (stepNs <= 0 || stepMs <= 0) {
    throw invalidParam(
      'step',
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  }
  // Go divides int64 nanosecond durations (end.Sub saturates at the int64 maximum).
  let spanNs = BigInt(endMs - startMs) * 1_000_000n;
  if (spanNs > BigInt(MAX_INT64)) spanNs = BigInt(MAX_INT64);
  if (spanNs / BigInt(stepNs) > BigInt(MAX_POINTS_PER_SERIES)) {
    throw badData(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  }
  return { startMs, endMs, stepMs };
}

/** match[] selectors: each parsed, each with at least one matcher that rejects the empty string. */
export function matcherSetsParam(
  params: RequestParams,
  parseSelector: (text: string) => Matcher[],
): Matcher[][] {
  const sets = params.getAll('match[]').map((text) => parseSelector(text));
  for (const set of sets) {
    if (!set.some((m) => !compileMatcher(m).matches(''))) {
      throw badData('match[] must contain at least one non-empty matcher');
    }
  }
  return sets;
}
