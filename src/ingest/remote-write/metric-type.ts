import { METRIC_TYPES, type MetricType } from '../../model/metric-type.js';

/** Maps a wire enum value to our type; values a newer sender may add become 'unknown'. */
export function metricTypeFromWire(value: number): MetricType {
  return METRIC_TYPES[value] ?? 'unknown';
}
