import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { httpScraper, SCRAPE_ACCEPT } from '../../src/agent/scrape-http.js';

describe('agent scrape over HTTP', () => {
  let server: http.Server;
  let base = '';
  const seen: http.IncomingHttpHeaders[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0', 'content-encoding': 'gzip' });
        res.end(gzipSync('a 1\n# EOF\n'));
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('a 1\n'), 1000);
      } else if (req.url === '/half') {
        res.writeHead(200);
        res.write('a 1\n');
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(503);
        res.end('busy');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('asks like Prometheus, unpacks gzip and tells OpenMetrics from the content type', async () => {
    const s = httpScraper(`${base}/gzip`, undefined);
    expect(await s.scrape(1000)).to.deep.equal({ body: 'a 1\n# EOF\n', format: 'openmetrics' });
    s.close();
    expect(seen.at(-1)!['accept']).to.equal(SCRAPE_ACCEPT);
    expect(seen.at(-1)!['accept-encoding']).to.equal('gzip');
    expect(seen.at(-1)!['x-prometheus-scrape-timeout-seconds']).to.equal('1');
  });

  it('fails on a status other than 200, on a timeout and on a body cut short', async () => {
    const s503 = httpScraper(`${base}/busy`, undefined);
    const slow = httpScraper(`${base}/slow`, undefined);
    const half = httpScraper(`${base}/half`, undefined);
    try {
      const started = Date.now();
      const results = await Promise.allSettled([s503.scrape(1000), slow.scrape(100), half.scrape(1000)]);
      const messages = results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'));
      expect(messages[0]).to.match(/HTTP status 503/);
      expect(messages[1]).to.match(/timed out after 100 ms/);
      expect(messages[2]).to.match(/^Error/);
      expect(Date.now() - started).to.be.below(900);
    } finally {
      for (const s of [s503, slow, half]) s.close();
    }
  });
});
