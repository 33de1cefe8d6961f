import type Koa from 'koa';
import { MetricstorError, errorMessage, isMetricstorError, type ErrorType } from '../errors.js';
import type { MetricStorage } from '../storage/types.js';
import { gunzipLimited, readBodyLimited } from './body.js';
import { importExposition, parseImportParams } from './import.js';
import { LabelCache } from './label-cache.js';
import type { IngestLimits } from './limits.js';
import { decodeRemoteWriteBody } from './decode-workers/decode-body.js';
import type { DecodePool } from './decode-workers/pool.js';
import type { RemoteWriteVersion } from './decode-workers/protocol.js';
import { appendSampleCount, validateWrite } from './validate.js';
import type { WriteQueue } from './write-queue.js';

export interface IngestDeps {
  readonly storage: Pick<MetricStorage, 'append' | 'putMetadata'>;
  readonly limits: IngestLimits;
  readonly queue: WriteQueue;
  /** The clock in milliseconds (import's default timestamp); tests pin it. */
  readonly nowMs?: () => number;
  /** Label sets remembered between requests (default 100,000; 0 disables the cache). */
  readonly labelCacheEntries?: number;
  /** Told what each request wrote or why it was refused (self-monitoring). */
  readonly observer?: IngestObserver;
  /** Threads that decompress and scan remote write bodies; absent: this thread does it. */
  readonly decodePool?: DecodePool;
}

export type IngestProtocol = 'remote_write' | 'import';

export interface IngestObserver {
  accepted(protocol: IngestProtocol, samples: number): void;
  /** `reason` is the error type; `samples` is 0 when the request failed before it was decoded. */
  rejected(protocol: IngestProtocol, reason: string, samples: number): void;
}

export type { RemoteWriteVersion };

const V1_PROTO = 'prometheus.WriteRequest';
const V2_PROTO = 'io.prometheus.write.v2.Request';

/**
 * Which remote write message a Content-Type announces. A missing Content-Type means 1.0 (as
 * Prometheus ≥2.54 reads it); anything but application/x-protobuf, or a proto= we do not speak,
 * is unsupported_media_type (415), so a 2.0 sender can fall back to 1.0.
 */
export function remoteWriteVersion(contentType: string | undefined): RemoteWriteVersion {
  if (contentType === undefined || contentType.trim() === '') return '1.0';
  const [mediaType, ...params] = contentType.split(';').map((p) => p.trim());
  if (mediaType!.toLowerCase() !== 'application/x-protobuf') {
    throw new MetricstorError('unsupported_media_type', `unsupported Content-Type ${JSON.stringify(contentType)}; want application/x-protobuf`);
  }
  let proto: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() === 'proto') proto = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  if (proto === undefined || proto === V1_PROTO) return '1.0';
  if (proto === V2_PROTO) return '2.0';
  throw new MetricstorError(
    'unsupported_media_type',
    `unsupported remote write message ${JSON.stringify(proto)}; accepted: ${V1_PROTO}, ${V2_PROTO}`,
  );
}

/** Remote write needs snappy; a missing Content-Encoding is read as snappy, as Prometheus ≥2.54 does. */
function checkSnappyEncoding(contentEncoding: string | undefined): void {
  if (contentEncoding === undefined || contentEncoding.trim() === '') return;
  if (contentEncoding.trim().toLowerCase() !== 'snappy') {
    throw new MetricstorError('unsupported_media_type', `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}; want snappy`);
  }
}

/**
 * POST /api/v1/write: Prometheus remote write 1.0 and 2.0. The request is decoded and validated
 * whole, then written whole (all or nothing), then answered 204. 2.0 answers carry the
 * X-Prometheus-Remote-Write-*-Written headers.
 */
export function remoteWriteHandler(deps: IngestDeps): Koa.Middleware {
  const entries = deps.labelCacheEntries ?? 100_000;
  const cache = entries > 0 ? new LabelCache(entries) : undefined;
  return async function remoteWrite(ctx) {
    let version: RemoteWriteVersion = '1.0';
    let samplesWritten = 0;
    let samplesSent = 0;
    try {
      version = remoteWriteVersion(ctx.get('content-type') || undefined);
      checkSnappyEncoding(ctx.get('content-encoding') || undefined);
      const body = await readBodyLimited(ctx.req, deps.limits.maxBodyBytes);
      // Waiting writers hold only their compressed bodies; decoding happens inside the slot.
      samplesWritten = await deps.queue.run(async () => {
        const { write: decoded, release } = await decodeRemoteWriteBody(version, body, deps.limits.maxDecodedBytes, cache, deps.decodePool);
        try {
          samplesSent = decoded.samples.length;
          const appends = validateWrite(decoded, deps.limits, cache);
          // Samples first: a retry after a failed metadata put rewrites identical samples harmlessly.
          if (appends.length > 0) await deps.storage.append(appends);
          if (decoded.metadata.length > 0) await deps.storage.putMetadata(decoded.metadata);
          return decoded.samples.length;
        } finally {
          // Storage copied what it keeps; the decode worker may reuse these buffers now.
          release();
        }
      });
      ctx.status = 204;
      deps.observer?.accepted('remote_write', samplesWritten);
    } catch (err) {
      deps.observer?.rejected('remote_write', reasonOf(err), samplesSent);
      writePlainError(ctx, err, deps);
    } finally {
      if (version === '2.0') {
        ctx.set('X-Prometheus-Remote-Write-Samples-Written', String(samplesWritten));
        ctx.set('X-Prometheus-Remote-Write-Histograms-Written', '0');
        ctx.set('X-Prometheus-Remote-Write-Exemplars-Written', '0');
      }
    }
  };
}

/**
 * POST /api/v1/import/prometheus: a Prometheus text or OpenMetrics exposition (optionally
 * gzip-encoded), with VictoriaMetrics's query parameters `timestamp` (milliseconds; the time of
 * samples written without one, default now) and repeated `extra_label=name=value`.
 */
export function importHandler(deps: IngestDeps): Koa.Middleware {
  const nowMs = deps.nowMs ?? Date.now;
  return async function importPrometheus(ctx) {
    let samples = 0;
    try {
      const params = parseImportParams(new URLSearchParams(ctx.querystring), nowMs());
      const encoding = (ctx.get('content-encoding') || 'identity').trim().toLowerCase();
      if (encoding !== 'identity' && encoding !== 'gzip') {
        throw new MetricstorError('unsupported_media_type', `unsupported Content-Encoding ${JSON.stringify(encoding)}; want gzip or none`);
      }
      const format = /application\/openmetrics-text/i.test(ctx.get('content-type')) ? 'openmetrics' : 'prometheus';
      const body = await readBodyLimited(ctx.req, deps.limits.maxBodyBytes);
      await deps.queue.run(async () => {
        let text = body;
        if (encoding === 'gzip') text = gunzipLimited(body, deps.limits.maxDecodedBytes);
        else if (body.length > deps.limits.maxDecodedBytes) {
          throw new MetricstorError('too_large', `request body is larger than the limit of ${deps.limits.maxDecodedBytes} bytes`);
        }
        const { appends, metadata } = importExposition(text, format, params, deps.limits);
        samples += appendSampleCount(appends);
        if (appends.length > 0) await deps.storage.append(appends);
        if (metadata.length > 0) await deps.storage.putMetadata(metadata);
      });
      ctx.status = 204;
      deps.observer?.accepted('import', samples);
    } catch (err) {
      deps.observer?.rejected('import', reasonOf(err), samples);
      writePlainError(ctx, err, deps);
    }
  };
}

function reasonOf(err: unknown): string {
  return isMetricstorError(err) ? err.type : 'internal';
}

const STATUS_BY_TYPE: Partial<Record<ErrorType, number>> = {
  bad_data: 400,
  too_large: 413,
  unsupported_media_type: 415,
  overloaded: 429,
  unavailable: 503,
  timeout: 503,
  canceled: 503,
};

/** Senders read a plain-text line; only retryable failures get a 5xx. */
function writePlainError(ctx: Koa.Context, err: unknown, deps: IngestDeps): void {
  const status = (isMetricstorError(err) && STATUS_BY_TYPE[err.type]) || 500;
  if (status === 500) ctx.app.emit('error', err, ctx);
  if (status === 429) ctx.set('Retry-After', String(deps.queue.options.retryAfterSeconds));
  if (status === 503) ctx.set('Retry-After', String(deps.queue.options.retryAfterSeconds));
  if (status === 413) ctx.set('Connection', 'close');
  ctx.status = status;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = `${errorMessage(err)}\n`;
}
