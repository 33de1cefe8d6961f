/**
 * Client CPU per kvrpc call (docs/benchmarks.md, "FlareDB backend", "Gateway CPU").
 *
 *   npx tsx bench/flaredb-rpc.ts [--calls=N]
 *
 * A flaredb-dev process (no fsync) answers CompareAndSwap creates of 200-byte values, 32 calls in
 * flight, sent three ways from this process: FlareDbClient, the generated grpc-js stub alone, and
 * a bare gRPC request over node:http2 (no channel, no deadline, no retries), each twice in turn.
 * The figure is this process's CPU time per call, so load from elsewhere moves it less than
 * wall time; the dev server's CPU is not counted.
 */
import http2 from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { FlareDbClient } from '../flaredb-client/src/client.js';
import { CasRequest, CasResponse, KvCasClient } from '../flaredb-client/src/generated/flaredb/kvrpc.js';
import { startFlareDbDev } from './flaredb-backend.js';

const IN_FLIGHT = 32;
const NAMESPACE = 'rpc-bench';
const callsArg = process.argv.find((a) => a.startsWith('--calls='));
const calls = callsArg === undefined ? 10_000 : Number(callsArg.slice('--calls='.length));
const value = Buffer.alloc(200, 7);

async function measure(name: string, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => { while (next < calls) await call(next++); }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(`| ${name} | ${((cpu.user + cpu.system) / calls).toFixed(0)} | ${Math.round(calls / seconds).toLocaleString('en-US')} |`);
}

/** One CompareAndSwap as a gRPC unary request on an HTTP/2 session, nothing else. */
function bareHttp2Cas(session: http2.ClientHttp2Session, req: CasRequest): Promise<CasResponse> {
  const message = CasRequest.encode(req).finish();
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/kvrpc.KvCas/CompareAndSwap', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let grpcStatus: unknown;
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('trailers', (t) => (grpcStatus = t['grpc-status']));
    stream.on('end', () => (grpcStatus === '0' ? resolve(CasResponse.decode(Buffer.concat(chunks).subarray(5))) : reject(new Error(`grpc-status ${String(grpcStatus)}`))));
    stream.on('error', reject);
    stream.end(frame);
  });
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-rpc-'));
const dev = await startFlareDbDev(dir);
const client = new FlareDbClient({ endpoints: [dev.address], timeoutMs: 30_000 });
const stub = new KvCasClient(dev.address, credentials.createInsecure(), { 'grpc.enable_retries': 0, 'grpc.use_local_subchannel_pool': 1 });
const session = http2.connect(`http://${dev.address}`);
const key = (prefix: string, i: number): Buffer => Buffer.from(`${prefix}/${String(i).padStart(9, '0')}`);
const created = (res: { success: boolean }): void => {
  if (!res.success) throw new Error('a create found its key present');
};
try {
  console.log(`# kvrpc client CPU, ${calls} CompareAndSwap creates per row, ${IN_FLIGHT} in flight`);
  console.log('| path | client CPU µs per call | calls/s |\n|---|---:|---:|');
  for (let round = 0; round < 2; round++) {
    await measure('FlareDbClient', (i) => client.compareAndSwap(key(`client${round}`, i), value, 0, { namespace: NAMESPACE }).then(created));
    await measure('grpc-js generated stub', (i) =>
      new Promise<CasResponse>((resolve, reject) =>
        stub.compareAndSwap({ key: key(`stub${round}`, i), value, expectedVersion: 0, namespace: NAMESPACE }, new Metadata(), { deadline: Date.now() + 30_000 }, (err, res) =>
          err === null ? resolve(res) : reject(err),
        ),
      ).then(created),
    );
    await measure('bare HTTP/2 request', (i) => bareHttp2Cas(session, { key: key(`h2${round}`, i), value, expectedVersion: 0, namespace: NAMESPACE }).then(created));
  }
} finally {
  session.close();
  stub.close();
  await client.close();
  await dev.stop();
  await rm(dir, { recursive: true, force: true });
}
