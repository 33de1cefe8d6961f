import { MetricstorError } from '../errors.js';
import { prefixEnd } from '../kv/bytes.js';
import type { KvStore } from '../kv/kv.js';
import { isMetricType } from '../model/metric-type.js';
import type { MetricMetadata } from './types.js';
import { decodeMetadataKey, metadataKey, metadataPrefix } from './keys.js';
import { scanEach } from './kv-scan.js';

/** `M` values: UTF-8 JSON {type, help, unit}; the family name is the key. */

export function metadataKeyOf(metricFamilyName: string): Uint8Array {
  if (metricFamilyName === '') throw new MetricstorError('bad_data', 'metadata needs a metric family name');
  return metadataKey(metricFamilyName);
}

export function encodeMetadata(m: MetricMetadata): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: m.type, help: m.help, unit: m.unit }));
}

export function decodeMetadata(metricFamilyName: string, bytes: Uint8Array): MetricMetadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new MetricstorError('internal', `unreadable metadata of ${metricFamilyName}`, { cause: err });
  }
  const get = (k: string): unknown => (typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, k) : undefined);
  const type = get('type');
  const help = get('help');
  const unit = get('unit');
  return {
    metricFamilyName,
    type: isMetricType(type) ? type : 'unknown',
    help: typeof help === 'string' ? help : '',
    unit: typeof unit === 'string' ? unit : '',
  };
}

/** Every stored family in name order, at most `limit` of them (0 = all). */
export async function metadataEntries(kv: KvStore, limit: number): Promise<MetricMetadata[]> {
  const out: MetricMetadata[] = [];
  const prefix = metadataPrefix();
  await scanEach(kv, prefix, prefixEnd(prefix), (e) => {
    if (limit > 0 && out.length >= limit) return;
    const name = decodeMetadataKey(e.key);
    out.push(decodeMetadata(name, e.value));
  });
  return out;
}
