/** Readable renderings of query API results. */

export type Metric = Readonly<Record<string, string>>;
type Pair = readonly [number, string];

export interface VectorSample {
  readonly metric: Metric;
  readonly value: Pair;
}

export interface MatrixSeries {
  readonly metric: Metric;
  readonly values: readonly Pair[];
}

/** `name{a="1", b="2"}`, or `{}` for a series without labels. */
export function formatMetric(metric: Metric): string {
  const name = metric['__name__'] ?? '';
  const labels = Object.keys(metric)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  return labels.length === 0 && name !== '' ? name : `${name}{${labels.join(', ')}}`;
}

/** Seconds since the epoch as RFC 3339 (UTC, milliseconds when there are some). */
export function formatTime(seconds: number): string {
  const iso = new Date(Math.round(seconds * 1000)).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Two left-aligned columns with a header and a rule under it. */
export function table(headers: readonly [string, string], rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(headers[0].length, ...rows.map((r) => r[0].length));
  const line = (a: string, b: string): string => `${a.padEnd(width)}  ${b}`.trimEnd();
  return [line(headers[0], headers[1]), line('-'.repeat(width), '-'.repeat(Math.max(headers[1].length, ...rows.map((r) => r[1].length)))), ...rows.map((r) => line(r[0], r[1]))].join('\n') + '\n';
}

export function formatVector(samples: readonly VectorSample[]): string {
  if (samples.length === 0) return 'no series\n';
  return table(['SERIES', 'VALUE'], samples.map((s) => [formatMetric(s.metric), s.value[1]]));
}

/** One block per series: its labels and point count, then one `time  value` line per point. */
export function formatMatrix(series: readonly MatrixSeries[]): string {
  if (series.length === 0) return 'no series\n';
  return series
    .map((s) => {
      const points = s.values.map(([t, v]) => `  ${formatTime(t)}  ${v}`);
      return [`${formatMetric(s.metric)}  (${s.values.length} point${s.values.length === 1 ? '' : 's'})`, ...points].join('\n');
    })
    .join('\n\n') + '\n';
}
