/** A remote-write receiver for tests: decodes each request and answers with a scripted status. */
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import snappy from 'snappy';
import { decodeWriteRequestV1 } from '../../src/ingest/remote-write/decode-v1.js';
import { formatLabels } from '../../src/model/labels.js';
import { isStaleAt } from '../../src/model/value.js';

export interface ReceivedSample {
  readonly series: string;
  readonly t: number;
  readonly v: number;
  readonly stale: boolean;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
}

export interface FakeReceiver {
  readonly url: string;
  /** Every request with its arrival time and samples, accepted or not. */
  readonly requests: { atMs: number; status: number; samples: ReceivedSample[]; clientCn?: string }[];
  /** Samples of requests answered 2xx. */
  accepted(): ReceivedSample[];
  close(): Promise<void>;
}

/** replies(n) gives the answer to the n-th request (0-based). */
export async function startFakeReceiver(
  replies: (n: number) => Reply,
  tls?: { cert: Buffer; key: Buffer; ca: Buffer },
): Promise<FakeReceiver> {
  const requests: FakeReceiver['requests'] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = decodeWriteRequestV1(snappy.uncompressSync(Buffer.concat(chunks)) as Buffer);
      const samples: ReceivedSample[] = [];
      for (const s of decoded.series) {
        for (let i = s.first; i < s.first + s.count; i++) {
          samples.push({
            series: formatLabels(s.labels),
            t: decoded.samples.timestamps[i]!,
            v: decoded.samples.values[i]!,
            stale: isStaleAt(decoded.samples.values, i),
          });
        }
      }
      const reply = replies(requests.length);
      const cn = tls === undefined ? undefined : (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
      requests.push({ atMs: Date.now(), status: reply.status, samples, ...(typeof cn === 'string' ? { clientCn: cn } : {}) });
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.status >= 400 ? 'scripted failure' : '');
    });
  };
  const server =
    tls === undefined ? http.createServer(handler) : https.createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/api/v1/write`,
    requests,
    accepted: () => requests.filter((r) => r.status < 300).flatMap((r) => r.samples),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
