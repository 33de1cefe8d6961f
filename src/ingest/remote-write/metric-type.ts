import type { MetricType } from '../../storage/types.js';

/** MetricType enum values shared by remote write 1.0 and 2.0 (2.0 calls 0 "unspecified"). */
const METRIC_TYPES: readonly MetricType[] = [
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
];

/** Maps a wire enum value to our type; values a newer sender may add become 'unknown'. */
export function metricTypeFromWire(value: number): MetricType {
  return METRIC_TYPES[value] ?? 'unknown';
}
