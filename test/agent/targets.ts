/** Small HTTP(S) servers that play scrape targets in the agent tests. */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TestTarget {
  readonly address: string;
  /** Replaces what the target serves from now on. */
  setBody(body: string): void;
  close(): Promise<void>;
}

export interface TestTargetOptions {
  /** Answer only after this long (a target slower than the scrape timeout). */
  readonly delayMs?: number;
  /** HTTPS with this key material; clients must present a certificate signed by ca. */
  readonly tls?: { cert: Buffer; key: Buffer; ca: Buffer };
}

export async function startTarget(body: string, options: TestTargetOptions = {}): Promise<TestTarget> {
  let current = body;
  const timers = new Set<NodeJS.Timeout>();
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    const answer = (): void => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(current);
    };
    if (options.delayMs === undefined) return answer();
    const t = setTimeout(() => {
      timers.delete(t);
      answer();
    }, options.delayMs);
    timers.add(t);
  };
  const server = options.tls === undefined
    ? http.createServer(handler)
    : https.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: true }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    setBody: (b) => void (current = b),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
