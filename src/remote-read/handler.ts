/**
 * POST /api/v1/read: Prometheus remote read. The request is a snappy block of prometheus.ReadRequest;
 * the answer is either SAMPLES (a snappy block of ReadResponse) or STREAMED_XOR_CHUNKS (frames of
 * ChunkedReadResponse carrying our stored XOR chunks), whichever comes first in the request's
 * accepted_response_types that we support (none listed = SAMPLES). Errors are plain text: 400 for
 * a request we cannot use, 500 for anything else, as Prometheus answers.
 */
import { Readable } from 'node:stream';
import type Koa from 'koa';
import { compressSync } from 'snappy';
import { MetricstorError, badData, errorMessage, isMetricstorError } from '../errors.js';
import {
  ChunkedReadResponse,
  ReadRequest,
  ReadRequest_ResponseType,
  type Query,
} from '../generated/prompb/prometheus/remote.js';
import { Chunk_Encoding, LabelMatcher_Type, type LabelMatcher } from '../generated/prompb/prometheus/types.js';
import { readBodyLimited } from '../ingest/body.js';
import { decodeSnappyBlock } from '../ingest/remote-write/snappy-block.js';
import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matchers.js';
import type { RawChunk, SeriesChunks } from '../storage/raw-chunks.js';
import type { SelectParams, SeriesData } from '../storage/types.js';
import { crc32c } from './crc32c.js';
import { Gate } from './gate.js';
import { encodeReadResponse } from './samples-response.js';

/** What remote read needs from storage: merged samples, and stored chunks for streaming. */
export interface RemoteReadStorage {
  select(params: SelectParams): Promise<SeriesData[]>;
  selectChunks(params: SelectParams): Promise<SeriesChunks[]>;
}

export interface RemoteReadLimits {
  /** Most samples one query of a SAMPLES answer may hold; 0 = no limit (Prometheus: 5e7). */
  readonly maxSamplesPerQuery: number;
  /** Reads served at once; more wait (Prometheus: 10). */
  readonly maxConcurrentReads: number;
  /** Chunks are added to a frame until it holds about this many bytes (Prometheus: 1 MiB). */
  readonly maxBytesInFrame: number;
  /** Largest compressed and decoded request body (Prometheus: 32 MiB). */
  readonly maxRequestBytes: number;
}

export const DEFAULT_REMOTE_READ_LIMITS: RemoteReadLimits = {
  maxSamplesPerQuery: 50_000_000,
  maxConcurrentReads: 10,
  maxBytesInFrame: 1024 * 1024,
  maxRequestBytes: 32 * 1024 * 1024,
};

export const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

const MATCH_TYPES: Readonly<Record<number, Matcher['type']>> = {
  [LabelMatcher_Type.EQ]: '=',
  [LabelMatcher_Type.NEQ]: '!=',
  [LabelMatcher_Type.RE]: '=~',
  [LabelMatcher_Type.NRE]: '!~',
};

export function remoteReadHandler(storage: RemoteReadStorage, limits: RemoteReadLimits = DEFAULT_REMOTE_READ_LIMITS): Koa.Middleware {
  const gate = new Gate(limits.maxConcurrentReads);
  return async function remoteRead(ctx) {
    const release = await gate.acquire();
    let releaseOnClose = false;
    try {
      const body = await readBodyLimited(ctx.req, limits.maxRequestBytes);
      const request = decodeRequest(decodeSnappyBlock(body, limits.maxRequestBytes));
      const queries = request.queries.map(selectParams);
      if (negotiate(request.acceptedResponseTypes) === ReadRequest_ResponseType.SAMPLES) {
        const results: SeriesData[][] = [];
        for (const q of queries) results.push(checkSampleLimit(await storage.select(q), limits.maxSamplesPerQuery));
        ctx.status = 200;
        ctx.set('Content-Type', 'application/x-protobuf');
        ctx.set('Content-Encoding', 'snappy');
        ctx.body = compressSync(Buffer.from(encodeReadResponse(results)));
        return;
      }
      // The first query is read before the status goes out, so its errors still get one.
      const first = queries.length > 0 ? await storage.selectChunks(queries[0]!) : [];
      ctx.status = 200;
      ctx.set('Content-Type', STREAMED_CONTENT_TYPE);
      ctx.body = Readable.from(streamFrames(storage, queries, first, limits.maxBytesInFrame), { objectMode: false });
      // the slot is held until the stream has been written or the client went away
      ctx.res.once('close', release);
      releaseOnClose = true;
    } catch (err) {
      writeReadError(ctx, err);
    } finally {
      if (!releaseOnClose) release();
    }
  };
}

function decodeRequest(bytes: Uint8Array): ReadRequest {
  try {
    return ReadRequest.decode(bytes);
  } catch (err) {
    throw badData(`could not decode read request: ${errorMessage(err)}`);
  }
}

/** The first accepted type we serve; none listed means SAMPLES. */
export function negotiate(accepted: readonly ReadRequest_ResponseType[]): ReadRequest_ResponseType {
  if (accepted.length === 0) return ReadRequest_ResponseType.SAMPLES;
  for (const t of accepted) {
    if (t === ReadRequest_ResponseType.SAMPLES || t === ReadRequest_ResponseType.STREAMED_XOR_CHUNKS) return t;
  }
  throw badData(`server does not support any of the requested response types: ${accepted.join(', ')}`);
}

function selectParams(q: Query): SelectParams {
  const matchers = q.matchers.map(toMatcher);
  // Hints are advisory; every sample in [start, end] is answered whatever they say.
  return { matchers, startMs: toMs(q.startTimestampMs), endMs: toMs(q.endTimestampMs) };
}

function toMs(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}

function toMatcher(m: LabelMatcher): Matcher {
  const type = MATCH_TYPES[m.type];
  if (type === undefined) throw badData(`invalid matcher type ${m.type}`);
  return { type, name: m.name, value: m.value };
}

function checkSampleLimit(series: SeriesData[], limit: number): SeriesData[] {
  if (limit <= 0) return series;
  let n = 0;
  for (const s of series) {
    n += s.timestamps.length;
    if (n > limit) throw badData(`exceeded sample limit (${limit})`);
  }
  return series;
}

async function* streamFrames(
  storage: RemoteReadStorage,
  queries: readonly SelectParams[],
  first: SeriesChunks[],
  maxBytesInFrame: number,
): AsyncGenerator<Buffer> {
  for (let i = 0; i < queries.length; i++) {
    const series = i === 0 ? first : await storage.selectChunks(queries[i]!);
    for (const s of series) yield* seriesFrames(s, BigInt(i), maxBytesInFrame);
  }
}

/**
 * One series as one or more frames: chunks are added until the frame has reached the byte budget
 * (so a frame may exceed it by up to one chunk, as in Prometheus); every frame repeats the labels.
 */
export function* seriesFrames(s: SeriesChunks, queryIndex: bigint, maxBytesInFrame: number): Generator<Buffer> {
  const labels = protoLabels(s.labels);
  const labelBytes = labels.reduce((n, l) => n + l.name.length + l.value.length + 4, 0);
  let batch: RawChunk[] = [];
  let left = maxBytesInFrame - labelBytes;
  for (let i = 0; i < s.chunks.length; i++) {
    const c = s.chunks[i]!;
    batch.push(c);
    left -= c.data.length + 24;
    if (left > 0 && i + 1 < s.chunks.length) continue;
    yield frame(
      ChunkedReadResponse.encode({
        chunkedSeries: [{ labels, chunks: batch.map(protoChunk) }],
        queryIndex,
      }).finish(),
    );
    batch = [];
    left = maxBytesInFrame - labelBytes;
  }
}

function protoLabels(labels: Labels): { name: string; value: string }[] {
  return labels.map((l) => ({ name: l.name, value: l.value }));
}

function protoChunk(c: RawChunk): { minTimeMs: bigint; maxTimeMs: bigint; type: Chunk_Encoding; data: Buffer } {
  return {
    minTimeMs: BigInt(c.minTimeMs),
    maxTimeMs: BigInt(c.maxTimeMs),
    type: Chunk_Encoding.XOR,
    data: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength),
  };
}

/** uvarint(length) + big-endian CRC-32C of the message + the message. */
export function frame(message: Uint8Array): Buffer {
  const head: number[] = [];
  let n = message.length;
  while (n >= 0x80) {
    head.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  head.push(n);
  const out = Buffer.allocUnsafe(head.length + 4 + message.length);
  out.set(head, 0);
  out.writeUInt32BE(crc32c(message), head.length);
  out.set(message, head.length + 4);
  return out;
}

function writeReadError(ctx: Koa.Context, err: unknown): void {
  const type = isMetricstorError(err) ? err.type : 'internal';
  const clientFault = type === 'bad_data' || type === 'too_large' || type === 'unsupported_media_type';
  if (!clientFault && !isMetricstorError(err)) ctx.app.emit('error', err, ctx);
  if (ctx.headerSent) {
    ctx.res.destroy(err instanceof Error ? err : new MetricstorError('internal', errorMessage(err)));
    return;
  }
  ctx.status = clientFault ? 400 : 500;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = `${errorMessage(err)}\n`;
}
