/**
 * Pushes series with the remote-write protocol (prompb WriteRequest, snappy block format), as
 * Prometheus's remote_write sender does. Used to load the same data into Prometheus and
 * Metricstor for the differential check, the query benchmark and the API tests.
 */
import snappy from 'snappy';
import { WriteRequest } from '../../generated/prompb/prometheus/remote.js';
import type { MetricMetadata, TimeSeries } from '../../generated/prompb/prometheus/types.js';

export interface PushSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly timestamps: ArrayLike<number>;
  /** Sent as they are; a Float64Array keeps NaN payloads (staleness markers) intact. */
  readonly values: ArrayLike<number>;
}

export function encodeWriteRequest(series: readonly PushSeries[], metadata: MetricMetadata[] = []): Buffer {
  const timeseries: TimeSeries[] = series.map((s) => ({
    labels: Object.entries(s.labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => ({ name, value })),
    samples: Array.from({ length: s.timestamps.length }, (_, i) => ({ timestamp: BigInt(s.timestamps[i]!), value: s.values[i]! })),
    exemplars: [],
    histograms: [],
  }));
  const bytes = WriteRequest.encode({ timeseries, metadata }).finish();
  return snappy.compressSync(Buffer.from(bytes));
}

/** POSTs a remote-write request; throws unless the receiver answers 2xx. */
export async function pushRemoteWrite(
  baseUrl: string,
  series: readonly PushSeries[],
  metadata: MetricMetadata[] = [],
): Promise<void> {
  const res = await fetch(`${baseUrl}/api/v1/write`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    body: encodeWriteRequest(series, metadata),
  });
  if (res.status < 200 || res.status > 299) {
    throw new Error(`remote write to ${baseUrl} failed: ${res.status} ${await res.text()}`);
  }
}

/**
 * Pushes series in time order, one request per time slice holding every series' samples in it,
 * as a live sender would: a receiver whose head only takes recent samples accepts all of them.
 */
export async function pushInTimeSlices(baseUrl: string, series: readonly PushSeries[], sliceMs: number): Promise<number> {
  let minMs = Infinity;
  let maxMs = -Infinity;
  for (const s of series) {
    if (s.timestamps.length === 0) continue;
    minMs = Math.min(minMs, s.timestamps[0]!);
    maxMs = Math.max(maxMs, s.timestamps[s.timestamps.length - 1]!);
  }
  const cursor = series.map(() => 0);
  let requests = 0;
  for (let sliceStart = minMs; sliceStart <= maxMs; sliceStart += sliceMs) {
    const sliceEnd = sliceStart + sliceMs;
    const batch: PushSeries[] = [];
    series.forEach((s, k) => {
      const from = cursor[k]!;
      let to = from;
      while (to < s.timestamps.length && s.timestamps[to]! < sliceEnd) to++;
      cursor[k] = to;
      if (to === from) return;
      batch.push({ labels: s.labels, timestamps: sliceOf(s.timestamps, from, to), values: sliceOf(s.values, from, to) });
    });
    if (batch.length === 0) continue;
    await pushRemoteWrite(baseUrl, batch);
    requests++;
  }
  return requests;
}

function sliceOf(values: ArrayLike<number>, from: number, to: number): Float64Array {
  const out = new Float64Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = values[i]!;
  return out;
}
