import { parseDurationMs } from '../config/duration.js';
import { UsageError } from './options.js';

/**
 * A query time in seconds since the epoch: "now", "now-1h" / "-1h" (relative), Unix seconds,
 * or an RFC 3339 timestamp.
 */
export function parseTimeSeconds(text: string, nowMs: number): number {
  const relative = /^(?:now)?([+-])(.+)$/.exec(text);
  if (text === 'now') return nowMs / 1000;
  if (relative !== null && !/^-?\d+(\.\d+)?$/.test(text)) {
    const ms = parseDurationMs(relative[2]!);
    if (ms === undefined) throw new UsageError(`invalid time ${JSON.stringify(text)}`);
    return (nowMs + (relative[1] === '-' ? -ms : ms)) / 1000;
  }
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new UsageError(`invalid time ${JSON.stringify(text)}: want now, now-1h, Unix seconds or RFC 3339`);
  return parsed / 1000;
}

/** A step as seconds: a duration (15s, 1m) or a number of seconds. */
export function parseStepSeconds(text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : (parseDurationMs(text) ?? NaN) / 1000;
  if (!(n > 0)) throw new UsageError(`invalid step ${JSON.stringify(text)}: want a duration such as 15s or a number of seconds`);
  return n;
}
