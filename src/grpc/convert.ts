/** Between the HTTP API's shapes and the gRPC messages. */
import type { Labels } from '../model/labels.js';
import type { QueryResult } from '../promql/types.js';
import type { Label, QueryResponse } from '../generated/metricstor/metricstor/v1/query.js';

export function protoLabels(labels: Labels): Label[] {
  return labels.map((l) => ({ name: l.name, value: l.value }));
}

/** A label object as the series endpoint returns it, in its key order (label names are never integer-like). */
export function labelsFromObject(obj: Readonly<Record<string, string>>): Label[] {
  return Object.entries(obj).map(([name, value]) => ({ name, value }));
}

export function queryResponse(result: QueryResult, warnings: readonly string[]): QueryResponse {
  const out: QueryResponse = { warnings: [...warnings] };
  switch (result.resultType) {
    case 'scalar':
      out.scalar = { timestampMs: result.t, value: result.v };
      break;
    case 'string':
      out.string = { timestampMs: result.t, value: result.value };
      break;
    case 'vector':
      out.vector = {
        samples: result.samples.map((s) => ({ labels: protoLabels(s.labels), timestampMs: s.t, value: s.v })),
      };
      break;
    case 'matrix':
      out.matrix = {
        series: result.series.map((s) => ({
          labels: protoLabels(s.labels),
          timestampsMs: Array.from(s.timestamps),
          values: Array.from(s.values),
        })),
      };
      break;
  }
  return out;
}

/** Milliseconds as the HTTP API's time parameter (Unix seconds, exact to the millisecond). */
export function secondsParam(ms: number): string {
  return (ms / 1000).toString();
}
