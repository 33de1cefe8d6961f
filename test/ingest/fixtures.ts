import http from 'node:http';
import Koa from 'koa';
import { compressSync } from 'snappy';
import { WriteRequest } from '../../src/generated/prompb/prometheus/remote.js';
import type { TimeSeries as TimeSeriesV1, MetricMetadata as MetricMetadataV1 } from '../../src/generated/prompb/prometheus/types.js';
import { Request as RequestV2 } from '../../src/generated/prompb/prometheus/write/v2/types.js';
import type { TimeSeries as TimeSeriesV2 } from '../../src/generated/prompb/prometheus/write/v2/types.js';
import type { DecodedWrite } from '../../src/ingest/types.js';
import type { Label } from '../../src/model/labels.js';
import type { AppendBatch, MetricMetadata, MetricStorage, SeriesAppend } from '../../src/storage/types.js';

/** The samples of decoded series i, as views of the request's buffer. */
export function samplesOf(d: DecodedWrite, i: number): { timestamps: Float64Array; values: Float64Array } {
  const s = d.series[i]!;
  return {
    timestamps: d.samples.timestamps.subarray(s.first, s.first + s.count),
    values: d.samples.values.subarray(s.first, s.first + s.count),
  };
}

/** The series of a batch one by one, their samples still ranges of the batch's columns. */
export function seriesOf(batch: AppendBatch): SeriesAppend[] {
  const out: SeriesAppend[] = [];
  for (let i = 0; i < batch.length; i++) {
    out.push({
      labels: batch.labels[i]!,
      timestamps: batch.timestamps,
      values: batch.values,
      start: batch.starts[i]!,
      end: batch.ends[i]!,
      ref: batch.refs?.[i],
    });
  }
  return out;
}

/** An append with its samples in arrays of their own (validateWrite's appends share the request's columns). */
export function ownSamples(a: SeriesAppend): SeriesAppend & { readonly timestamps: Float64Array } {
  const start = a.start ?? 0;
  const end = a.end ?? a.timestamps.length;
  const timestamps = new Float64Array(end - start);
  for (let i = start; i < end; i++) timestamps[i - start] = a.timestamps[i]!;
  return { labels: a.labels, timestamps, values: a.values.subarray(start, end), ref: a.ref };
}

/** Records what the handlers hand to storage; can be told to fail the next appends. */
export class RecordingStorage implements Pick<MetricStorage, 'append' | 'putMetadata'> {
  readonly appends: SeriesAppend[][] = [];
  readonly metadata: MetricMetadata[][] = [];
  failWith: Error | undefined;
  /** Resolves appends only when released (for concurrency tests). */
  gate: Promise<void> | undefined;

  async append(batch: AppendBatch): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    this.appends.push(seriesOf(batch).map(ownSamples));
  }

  async putMetadata(entries: readonly MetricMetadata[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.metadata.push([...entries]);
  }

  allSeries(): SeriesAppend[] {
    return this.appends.flat();
  }
}

export function labelsOf(obj: Record<string, string>): Label[] {
  return Object.entries(obj).map(([name, value]) => ({ name, value }));
}

export interface V1SeriesSpec {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number | bigint }[];
}

export function v1Series(spec: V1SeriesSpec): TimeSeriesV1 {
  return {
    labels: labelsOf(spec.labels),
    samples: spec.samples.map((s) => ({ value: s.value, timestamp: BigInt(s.timestamp) })),
    exemplars: [],
    histograms: [],
  };
}

export function encodeV1(series: TimeSeriesV1[], metadata: MetricMetadataV1[] = []): Uint8Array {
  return WriteRequest.encode({ timeseries: series, metadata }).finish();
}

/** Builds a 2.0 request, interning every string into the symbols table. */
export function encodeV2(
  series: {
    labels: Record<string, string>;
    samples: { value: number; timestamp: number }[];
    metadata?: { type: number; help: string; unit: string };
    exemplars?: number;
    histograms?: number;
  }[],
): Uint8Array {
  const symbols = [''];
  const refOf = (s: string): number => {
    let i = symbols.indexOf(s);
    if (i < 0) {
      i = symbols.length;
      symbols.push(s);
    }
    return i;
  };
  const timeseries: TimeSeriesV2[] = series.map((s) => ({
    labelsRefs: Object.entries(s.labels).flatMap(([n, v]) => [refOf(n), refOf(v)]),
    samples: s.samples.map((x) => ({ value: x.value, timestamp: BigInt(x.timestamp), startTimestamp: 0n })),
    histograms: Array.from({ length: s.histograms ?? 0 }, (_, i) => ({
      countInt: BigInt(i + 1),
      sum: 1,
      schema: 0,
      zeroThreshold: 0,
      negativeSpans: [],
      negativeDeltas: [],
      negativeCounts: [],
      positiveSpans: [],
      positiveDeltas: [],
      positiveCounts: [],
      resetHint: 0,
      timestamp: 1000n,
      customValues: [],
      startTimestamp: 0n,
    })),
    exemplars: Array.from({ length: s.exemplars ?? 0 }, () => ({ labelsRefs: [refOf('trace_id'), refOf('abc')], value: 1, timestamp: 5n })),
    metadata: s.metadata
      ? { type: s.metadata.type, helpRef: refOf(s.metadata.help), unitRef: refOf(s.metadata.unit) }
      : undefined,
  }));
  return RequestV2.encode({ symbols, timeseries }).finish();
}

export function snappy(raw: Uint8Array): Buffer {
  return compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
}

/** Replaces the first occurrence of the 8 bytes of `placeholder` (as a little-endian double) with `bits`. */
export function patchDouble(buf: Uint8Array, placeholder: number, hi: number, lo: number): Uint8Array {
  const needle = Buffer.alloc(8);
  needle.writeDoubleLE(placeholder);
  const at = Buffer.from(buf).indexOf(needle);
  if (at < 0) throw new Error('placeholder not found');
  const out = Uint8Array.from(buf);
  const view = new DataView(out.buffer);
  view.setUint32(at, lo, true);
  view.setUint32(at + 4, hi, true);
  return out;
}

/** The [hi, lo] words of values[i]. */
export function bitsAt(values: Float64Array, i: number): [number, number] {
  const view = new DataView(values.buffer, values.byteOffset + i * 8, 8);
  return [view.getUint32(4, true), view.getUint32(0, true)];
}

/** A Koa app on a free 127.0.0.1 port with the given middleware at the given paths. */
export async function startApp(
  routes: Record<string, Koa.Middleware>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    const handler = routes[ctx.path];
    if (handler && ctx.method === 'POST') await handler(ctx, next);
    else ctx.status = 404;
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
