import http from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import { encodeWriteRequest } from '../../src/promql/testing/remote-write.js';
import { tempDir } from '../helpers/tmp.js';
import { rawSamples, serve, sleep, type Child } from './serve.js';

/** Starts a remote write whose body is sent in two halves; `finish` sends the rest and resolves to the status. */
function halfSentWrite(port: number, body: Buffer): { finish(): Promise<number> } {
  const cut = Math.floor(body.length / 2);
  let resolveStatus: (status: number) => void;
  let rejectStatus: (err: unknown) => void;
  const status = new Promise<number>((resolve, reject) => {
    resolveStatus = resolve;
    rejectStatus = reject;
  });
  const req = http.request(
    {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/write',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'content-length': body.length },
    },
    (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    },
  );
  req.on('error', (err) => rejectStatus(err));
  req.write(body.subarray(0, cut));
  return {
    finish: () => {
      req.end(body.subarray(cut));
      return status;
    },
  };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('graceful shutdown on SIGTERM', function () {
  this.timeout(60_000);
  const children: Child[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill();
  });

  it('stops accepting, finishes the write in flight (204, data kept), closes the KV and exits 0', async () => {
    const dataDir = await tempDir('sigterm');
    const first = await serve({ dataDir });
    children.push(first.child);
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const timestamps = Array.from({ length: 500 }, (_, i) => nowMs - 500_000 + i * 1000);
    const series = Array.from({ length: 20 }, (_, s) => ({
      labels: { __name__: 'rel_sigterm', s: String(s) },
      timestamps,
      values: timestamps.map((_, i) => i + s),
    }));
    const inFlight = halfSentWrite(first.httpPort, encodeWriteRequest(series));
    await sleep(300);
    first.child.proc.kill('SIGTERM');
    await sleep(500);
    expect(first.child.alive, 'the server waits for the write in flight').to.equal(true);
    expect(await connects(first.httpPort), 'new connections are refused once SIGTERM arrived').to.equal(false);
    expect(await inFlight.finish()).to.equal(204);
    const exit = await Promise.race([first.child.exited, sleep(15_000).then(() => undefined)]);
    expect(exit, 'exited within 15 s').to.deep.equal({ code: 0, signal: null });

    // The embedded KV was closed cleanly: it opens again and holds the write.
    const second = await serve({ dataDir, httpPort: first.httpPort });
    children.push(second.child);
    const found = await rawSamples(second.url, 'rel_sigterm', nowMs - 500_000, nowMs);
    expect(found.size).to.equal(20 * 500);
    expect(found.get(`__name__=rel_sigterm,s=3@${timestamps[10]}`)).to.equal('13');
  });
});
