/**
 * The one place that turns handler results and thrown errors into HTTP responses: the success
 * envelope {status, data, warnings?} and the error envelope {status, errorType, error}.
 */
import { pipeline, Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import type Koa from 'koa';
import type { ErrorType } from '../errors.js';
import { errorMessage, isMetricstorError } from '../errors.js';
import { jsonEncode } from './format.js';
import { QueryData, queryDataChunks } from './json.js';

/** What an API handler returns: data (a QueryData is streamed) and warnings, or no content. */
export type ApiResult = { readonly data: unknown; readonly warnings?: readonly string[] } | typeof NO_CONTENT;

/** Prometheus answers 204 with an empty body when a handler has no data (e.g. delete_series). */
export const NO_CONTENT = Symbol('no content');

/** Every error type's HTTP status, in one table. */
export const HTTP_STATUS_BY_ERROR_TYPE: Readonly<Record<ErrorType, number>> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  unavailable: 503,
  not_found: 404,
  internal: 500,
  too_large: 413,
  unsupported_media_type: 415,
  overloaded: 429,
  forbidden: 403,
  unauthorized: 401,
};

/**
 * The fastest deflate level. Serving a 1e6-point matrix (28.7 MB of JSON) took 0.55-0.7 s for
 * 5.2 MB at level 1 against 2.2-2.3 s for 4.2 MB at the default level 6; CPU is scarcer than bytes.
 */
const GZIP_LEVEL = 1;

/**
 * A query answer up to this many characters is built whole and sent with its headers in one
 * socket write (a stream costs a write per chunk, one for the end, a pipeline and a gzip
 * stream); a longer one is streamed.
 */
const WHOLE_BODY_MAX_CHARS = 64 * 1024;

/** Bodies shorter than this are sent uncompressed: gzip would not make them smaller. */
const GZIP_MIN_CHARS = 1024;

/** Seconds a client should wait after an `overloaded` or `unavailable` answer. */
const RETRY_AFTER_SECONDS = 1;

export function writeSuccess(ctx: Koa.Context, result: ApiResult): void {
  setCors(ctx);
  if (result === NO_CONTENT) {
    ctx.status = 204;
    ctx.body = null;
    return;
  }
  ctx.status = 200;
  ctx.type = 'application/json';
  const warnings = result.warnings && result.warnings.length > 0 ? `,"warnings":${jsonEncode(result.warnings)}` : '';
  if (result.data instanceof QueryData) {
    writeQueryData(ctx, result.data, warnings);
    return;
  }
  ctx.body = `{"status":"success","data":${jsonEncode(result.data)}${warnings}}`;
}

/** A query answer: whole when it is short, else streamed; gzipped for clients that ask, as Prometheus does. */
function writeQueryData(ctx: Koa.Context, data: QueryData, warnings: string): void {
  ctx.vary('Accept-Encoding');
  const gzip = ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
  const chunks = queryDataChunks(data.result);
  let head = '{"status":"success","data":';
  for (let next = chunks.next(); ; next = chunks.next()) {
    if (next.done === true) {
      const body = `${head}${warnings}}`;
      if (gzip && body.length >= GZIP_MIN_CHARS) {
        ctx.set('Content-Encoding', 'gzip');
        ctx.body = gzipSync(body, { level: GZIP_LEVEL });
      } else {
        ctx.body = body;
      }
      return;
    }
    head += next.value;
    if (head.length > WHOLE_BODY_MAX_CHARS) break;
  }
  const source = Readable.from(
    (function* envelope(): Generator<string> {
      yield head;
      yield* chunks;
      yield `${warnings}}`;
    })(),
    { objectMode: false },
  );
  if (gzip) {
    ctx.set('Content-Encoding', 'gzip');
    ctx.body = pipeline(source, createGzip({ level: GZIP_LEVEL }), () => undefined);
  } else {
    ctx.body = source;
  }
}

/** Writes the error envelope; anything that is not a MetricstorError counts as `internal`. */
export function writeError(ctx: Koa.Context, err: unknown): void {
  const type: ErrorType = isMetricstorError(err) ? err.type : 'internal';
  setCors(ctx);
  ctx.status = HTTP_STATUS_BY_ERROR_TYPE[type];
  if (type === 'overloaded' || type === 'unavailable') ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  ctx.type = 'application/json';
  ctx.body = jsonEncode({ status: 'error', errorType: type, error: errorMessage(err) });
}

function setCors(ctx: Koa.Context): void {
  ctx.set('Access-Control-Allow-Origin', '*');
}
