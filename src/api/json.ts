/**
 * Prometheus's JSON for query results, produced as a sequence of string chunks so that a large
 * matrix is written to the socket piece by piece instead of as one giant string.
 */
import type { Labels } from '../model/labels.js';
import type { QueryResult } from '../promql/types.js';
import { formatFloatF, formatResultTimestamp, formatSampleTimestamp, formatSampleValue, jsonString } from './format.js';

/** Flush a chunk once it is about this long. */
const CHUNK_CHARS = 64 * 1024;

/** `{"__name__":"up","job":"x"}` in the label set's (sorted) order. */
export function labelsJson(labels: Labels): string {
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) out += ',';
    out += `${jsonString(l.name)}:${jsonString(l.value)}`;
  }
  return `${out}}`;
}

/** Labels as a plain object for the non-streamed endpoints (series, exemplars). */
export function labelsObject(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

function samplePair(tMs: number, v: number): string {
  return `[${formatSampleTimestamp(tMs)},"${formatSampleValue(v)}"]`;
}

/** The `data` object of a query answer: {"resultType":…,"result":…}, in chunks. */
export function* queryDataChunks(result: QueryResult): Generator<string> {
  switch (result.resultType) {
    case 'scalar':
      yield `{"resultType":"scalar","result":[${formatResultTimestamp(result.t)},"${formatFloatF(result.v)}"]}`;
      return;
    case 'string':
      yield `{"resultType":"string","result":[${formatResultTimestamp(result.t)},${jsonString(result.value)}]}`;
      return;
    case 'vector': {
      let buf = '{"resultType":"vector","result":[';
      for (let i = 0; i < result.samples.length; i++) {
        const s = result.samples[i]!;
        buf += `${i > 0 ? ',' : ''}{"metric":${labelsJson(s.labels)},"value":${samplePair(s.t, s.v)}}`;
        if (buf.length >= CHUNK_CHARS) {
          yield buf;
          buf = '';
        }
      }
      yield `${buf}]}`;
      return;
    }
    case 'matrix': {
      let buf = '{"resultType":"matrix","result":[';
      let first = true;
      for (const series of result.series) {
        const n = series.timestamps.length;
        if (n === 0) continue; // Prometheus leaves out series without points
        buf += `${first ? '' : ','}{"metric":${labelsJson(series.labels)},"values":[`;
        first = false;
        for (let i = 0; i < n; i++) {
          buf += `${i > 0 ? ',' : ''}${samplePair(series.timestamps[i]!, series.values[i]!)}`;
          if (buf.length >= CHUNK_CHARS) {
            yield buf;
            buf = '';
          }
        }
        buf += ']}';
      }
      yield `${buf}]}`;
      return;
    }
  }
}

/** A query result waiting to be streamed as the `data` of a success envelope. */
export class QueryData {
  constructor(readonly result: QueryResult) {}
}
