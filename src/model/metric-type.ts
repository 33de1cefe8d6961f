/**
 * The metric types of Prometheus metadata, in the order of the remote-write MetricType enum
 * (1.0 and 2.0 agree; 2.0 calls 0 "unspecified").
 */
export const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;

export type MetricType = (typeof METRIC_TYPES)[number];

const KNOWN: ReadonlySet<string> = new Set(METRIC_TYPES);

export function isMetricType(s: unknown): s is MetricType {
  return typeof s === 'string' && KNOWN.has(s);
}
