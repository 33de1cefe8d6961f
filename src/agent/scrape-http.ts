/** One HTTP(S) GET of a target's metrics page, with the headers and limits Prometheus uses. */
import http from 'node:http';
import https from 'node:https';
import { createGunzip } from 'node:zlib';
import type { ExpositionFormat } from '../ingest/exposition/parse.js';

export const SCRAPE_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export const USER_AGENT = 'Metricstor-Agent/0.1.0';

/** Largest body read from a target. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ScrapeResponse {
  readonly body: string;
  readonly format: ExpositionFormat;
}

/** TLS material for scraping https targets (CA to check them, optional client certificate). */
export interface ClientTlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly serverName?: string;
  readonly insecureSkipVerify?: boolean;
}

export interface Scraper {
  scrape(timeoutMs: number): Promise<ScrapeResponse>;
  /** Closes idle connections. */
  close(): void;
}

/** A scrape function for one URL; errors are thrown as Error with a message fit for logs. */
export function httpScraper(url: string, tls: ClientTlsMaterial | undefined): Scraper {
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls?.cert === undefined ? {} : { cert: tls.cert, key: tls.key }),
        ...(tls?.serverName === undefined ? {} : { servername: tls.serverName }),
        rejectUnauthorized: tls?.insecureSkipVerify !== true,
        minVersion: 'TLSv1.2',
      })
    : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = isHttps ? https.request : http.request;
  const scrape = (timeoutMs: number): Promise<ScrapeResponse> =>
    new Promise<ScrapeResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new Error(`scrape timed out after ${timeoutMs} ms`);
        req.destroy(err);
        fail(err);
      }, timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      const req = request(
        u,
        {
          agent,
          method: 'GET',
          headers: {
            accept: SCRAPE_ACCEPT,
            'accept-encoding': 'gzip',
            'user-agent': USER_AGENT,
            'x-prometheus-scrape-timeout-seconds': String(timeoutMs / 1000),
          },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            fail(new Error(`server returned HTTP status ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trim()));
            return;
          }
          const stream = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              const err = new Error(`body larger than ${MAX_BODY_BYTES} bytes`);
              req.destroy(err);
              fail(err);
              return;
            }
            chunks.push(chunk);
          });
          stream.on('error', fail);
          res.on('error', fail);
          res.on('aborted', () => fail(new Error('connection closed while reading the body')));
          stream.on('end', () => {
            clearTimeout(timer);
            const contentType = String(res.headers['content-type'] ?? '');
            resolve({
              body: Buffer.concat(chunks).toString('utf8'),
              format: contentType.startsWith('application/openmetrics-text') ? 'openmetrics' : 'prometheus',
            });
          });
        },
      );
      req.on('error', fail);
      req.end();
    });
  return { scrape, close: () => agent.destroy() };
}
