/** POSTs remote-write bodies to one receiver over HTTP(S), with a client certificate when set. */
import http from 'node:http';
import https from 'node:https';
import type { ClientTlsMaterial } from './scrape-http.js';
import { USER_AGENT } from './scrape-http.js';

export interface PostResult {
  readonly status: number;
  /** From a Retry-After header (seconds or an HTTP date), when the receiver sent one. */
  readonly retryAfterMs?: number;
  /** The start of the response body, for logs. */
  readonly message: string;
}

export interface RemoteClient {
  /** Resolves with the HTTP status; rejects on connection errors and timeouts. */
  post(body: Buffer, signal: AbortSignal): Promise<PostResult>;
  close(): void;
}

export function remoteClient(
  url: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>>,
  tls: ClientTlsMaterial | undefined,
  nowMs: () => number = Date.now,
): RemoteClient {
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({
        keepAlive: true,
        ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls?.cert === undefined ? {} : { cert: tls.cert, key: tls.key }),
        ...(tls?.serverName === undefined ? {} : { servername: tls.serverName }),
        rejectUnauthorized: tls?.insecureSkipVerify !== true,
        minVersion: 'TLSv1.2',
      })
    : new http.Agent({ keepAlive: true });
  const request = isHttps ? https.request : http.request;
  const post = (body: Buffer, signal: AbortSignal): Promise<PostResult> =>
    new Promise<PostResult>((resolve, reject) => {
      const req = request(
        u,
        {
          agent,
          method: 'POST',
          signal,
          timeout: timeoutMs,
          headers: {
            ...headers,
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'x-prometheus-remote-write-version': '0.1.0',
            'user-agent': USER_AGENT,
            'content-length': String(body.length),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < 512) text += chunk;
          });
          res.on('error', reject);
          res.on('end', () => {
            const retryAfterMs = parseRetryAfter(res.headers['retry-after'], nowMs());
            resolve({ status: res.statusCode ?? 0, message: text.slice(0, 512), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`remote write timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
