/** Text forms of series and values as Prometheus prints them. */

export function formatSeries(metric: Record<string, string>): string {
  const name = metric['__name__'] ?? '';
  const labels = Object.keys(metric)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  if (labels.length === 0) return name === '' ? '{}' : name;
  return `${name}{${labels.join(', ')}}`;
}

/** The API's value text as a number for charts: +Inf/-Inf/NaN become null (uPlot leaves a gap). */
export function chartValue(text: string): number | null {
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export function formatTime(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('T', ' ').replace('.000Z', 'Z');
}

/** Parses a step: plain seconds (15, 0.5) or a duration such as 30s, 5m, 1h30m. */
export function parseStepSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return n > 0 ? n : undefined;
  }
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(trimmed); m !== null; m = re.exec(trimmed)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === trimmed.length && total > 0 ? total : undefined;
}

/** A step giving about 250 points over the range, rounded to whole seconds (at least 1). */
export function autoStepSeconds(rangeSec: number): number {
  return Math.max(1, Math.round(rangeSec / 250));
}
