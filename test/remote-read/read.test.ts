/** POST /api/v1/read against a running server: both response types, limits and errors. */
import { expect } from 'chai';
import snappy from 'snappy';
import { decodeXorChunk } from '../../src/chunk/index.js';
import {
  ChunkedReadResponse,
  ReadRequest,
  ReadRequest_ResponseType,
  ReadResponse,
} from '../../src/generated/prompb/prometheus/remote.js';
import { LabelMatcher_Type, type LabelMatcher } from '../../src/generated/prompb/prometheus/types.js';
import { MetricstorError } from '../../src/errors.js';
import { MemoryKv } from '../../src/kv/memory.js';
import { crc32c } from '../../src/remote-read/crc32c.js';
import { remoteReadHandler, seriesFrames, STREAMED_CONTENT_TYPE } from '../../src/remote-read/handler.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { Storage } from '../../src/storage/index.js';
import { STALE_NAN_BITS_HI, STALE_NAN_BITS_LO } from './stale.js';
import { testConfig } from '../api/config.js';
import { pushRemoteWrite } from '../api/push.js';
import { tempDir } from '../helpers/tmp.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const T0 = 1_700_000_000_000;
const STEP = 15_000;

interface Query {
  start: number;
  end: number;
  matchers: [LabelMatcher_Type, string, string][];
}

function readBody(queries: Query[], accepted: ReadRequest_ResponseType[]): Buffer {
  const bytes = ReadRequest.encode({
    queries: queries.map((q) => ({
      startTimestampMs: BigInt(q.start),
      endTimestampMs: BigInt(q.end),
      matchers: q.matchers.map(([type, name, value]): LabelMatcher => ({ type, name, value })),
      hints: undefined,
    })),
    acceptedResponseTypes: accepted,
  }).finish();
  return snappy.compressSync(Buffer.from(bytes));
}

async function post(url: string, body: Buffer): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-read-version': '0.1.0',
    },
    body,
  });
}

interface Frame {
  readonly message: ChunkedReadResponse;
}

/** Splits a streamed body into frames, checking each CRC. */
function parseFrames(body: Uint8Array): Frame[] {
  const out: Frame[] = [];
  let at = 0;
  while (at < body.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = body[at++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    const crc = Buffer.from(body.buffer, body.byteOffset + at, 4).readUInt32BE(0);
    at += 4;
    const message = body.subarray(at, at + len);
    at += len;
    expect(crc32c(message), 'frame CRC').to.equal(crc);
    out.push({ message: ChunkedReadResponse.decode(message) });
  }
  return out;
}

const labelsOf = (ls: { name: string; value: string }[]): string => ls.map((l) => `${l.name}=${l.value}`).join(',');

describe('remote read (POST /api/v1/read)', function () {
  this.timeout(20_000);
  let server: RunningServer;
  let url = '';

  before(async () => {
    server = await startServer(testConfig(await tempDir('remote-read')));
    url = `http://${server.httpAddress}/api/v1/read`;
    const times = Array.from({ length: 300 }, (_, i) => T0 + i * STEP);
    await pushRemoteWrite(`http://${server.httpAddress}`, [
      { labels: { __name__: 'm', job: 'a', i: '1' }, timestamps: times, values: times.map((_, i) => i) },
      { labels: { __name__: 'm', job: 'b', i: '2' }, timestamps: times, values: times.map((_, i) => i * 0.5) },
      { labels: { __name__: 'other', job: 'a' }, timestamps: times.slice(0, 10), values: times.slice(0, 10).map(() => 7) },
    ]);
    // a staleness marker, whose NaN payload must survive
    await server.storage.append(appendBatchOf([
      {
        labels: [
          { name: '__name__', value: 'stale' },
          { name: 'job', value: 'a' },
        ],
        timestamps: [T0],
        values: new Float64Array(new Uint32Array([STALE_NAN_BITS_LO, STALE_NAN_BITS_HI]).buffer),
      },
    ]));
  });

  after(async () => {
    await server?.close();
  });

  it('answers SAMPLES (snappy ReadResponse) when no response type is listed, one result per query, all four matcher types', async () => {
    const res = await post(
      url,
      readBody(
        [
          { start: T0 + 10 * STEP, end: T0 + 12 * STEP, matchers: [[LabelMatcher_Type.EQ, '__name__', 'm'], [LabelMatcher_Type.NEQ, 'job', 'b']] },
          { start: T0, end: T0 + STEP, matchers: [[LabelMatcher_Type.RE, 'job', 'a|b'], [LabelMatcher_Type.NRE, '__name__', 'm|stale']] },
          { start: T0, end: T0 + STEP, matchers: [[LabelMatcher_Type.RE, '__name__', 'nothing.*']] },
        ],
        [],
      ),
    );
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/x-protobuf');
    expect(res.headers.get('content-encoding')).to.equal('snappy');
    const decoded = ReadResponse.decode(snappy.uncompressSync(Buffer.from(await res.arrayBuffer()), { asBuffer: true }) as Buffer);
    expect(decoded.results).to.have.length(3);
    const [first, second, third] = decoded.results;
    expect(first!.timeseries.map((t) => labelsOf(t.labels))).to.deep.equal(['__name__=m,i=1,job=a']);
    expect(first!.timeseries[0]!.samples.map((s) => [Number(s.timestamp), s.value])).to.deep.equal([
      [T0 + 10 * STEP, 10],
      [T0 + 11 * STEP, 11],
      [T0 + 12 * STEP, 12],
    ]);
    expect(second!.timeseries.map((t) => labelsOf(t.labels))).to.deep.equal(['__name__=other,job=a']);
    expect(second!.timeseries[0]!.samples).to.have.length(2);
    expect(third!.timeseries).to.deep.equal([]);
  });

  it('keeps the staleness marker bits in SAMPLES answers', async () => {
    const res = await post(url, readBody([{ start: T0, end: T0, matchers: [[LabelMatcher_Type.EQ, '__name__', 'stale']] }], []));
    const raw = snappy.uncompressSync(Buffer.from(await res.arrayBuffer()), { asBuffer: true }) as Buffer;
    const bits = Buffer.alloc(8);
    bits.writeUInt32LE(STALE_NAN_BITS_LO, 0);
    bits.writeUInt32LE(STALE_NAN_BITS_HI, 4);
    // field 1 of Sample, wire type 1 (0x09), then the 8 little-endian bytes
    expect(raw.includes(Buffer.concat([Buffer.from([0x09]), bits]))).to.equal(true);
  });

  it('streams XOR chunks when STREAMED_XOR_CHUNKS comes first: stored chunks inside the range unchanged, edge chunks cut to it', async () => {
    const start = T0 + 100 * STEP;
    const end = T0 + 250 * STEP;
    const res = await post(
      url,
      readBody(
        [
          { start, end, matchers: [[LabelMatcher_Type.EQ, '__name__', 'm']] },
          { start: T0, end: T0 + 2 * STEP, matchers: [[LabelMatcher_Type.EQ, '__name__', 'other']] },
        ],
        [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS, ReadRequest_ResponseType.SAMPLES],
      ),
    );
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal(STREAMED_CONTENT_TYPE);
    expect(res.headers.get('content-encoding')).to.equal(null);
    const frames = parseFrames(new Uint8Array(await res.arrayBuffer()));
    expect(frames.map((f) => Number(f.message.queryIndex))).to.deep.equal([0, 0, 1]);
    const matchers = [{ type: '=' as const, name: '__name__', value: 'm' }];
    const selected = await server.storage.select({ matchers, startMs: start, endMs: end });
    // every stored chunk, whole: samples 0-119, 120-239, 240-299
    const stored = await server.storage.selectChunks({ matchers, startMs: T0, endMs: T0 + 300 * STEP });
    for (let i = 0; i < 2; i++) {
      const series = frames[i]!.message.chunkedSeries;
      expect(series).to.have.length(1);
      expect(labelsOf(series[0]!.labels)).to.equal(labelsOf([...selected[i]!.labels]));
      const chunks = series[0]!.chunks;
      expect(chunks.map((c) => [Number(c.minTimeMs), Number(c.maxTimeMs), c.type])).to.deep.equal([
        [start, T0 + 119 * STEP, 1],
        [T0 + 120 * STEP, T0 + 239 * STEP, 1],
        [T0 + 240 * STEP, end, 1],
      ]);
      expect(stored[i]!.chunks).to.have.length(3);
      expect(Buffer.from(chunks[1]!.data).equals(Buffer.from(stored[i]!.chunks[1]!.data))).to.equal(true);
      const runs = chunks.map((c) => decodeXorChunk(c.data));
      expect(runs.flatMap((r) => [...r.timestamps])).to.deep.equal([...selected[i]!.timestamps]);
      expect(runs.flatMap((r) => [...r.values])).to.deep.equal([...selected[i]!.values]);
    }
  });

  it('answers 400 with a text message for unsupported response types, bad bodies and bad regexes', async () => {
    const q: Query = { start: T0, end: T0 + STEP, matchers: [[LabelMatcher_Type.EQ, '__name__', 'm']] };
    const unsupported = await post(url, readBody([q], [7 as ReadRequest_ResponseType]));
    expect(unsupported.status).to.equal(400);
    expect(await unsupported.text()).to.match(/does not support any of the requested response types/);
    const garbage = await post(url, Buffer.from('not snappy at all'));
    expect(garbage.status).to.equal(400);
    expect(garbage.headers.get('content-type')).to.match(/^text\/plain/);
    const badRegex = await post(url, readBody([{ ...q, matchers: [[LabelMatcher_Type.RE, 'job', '(']] }], []));
    expect(badRegex.status).to.equal(400);
  });
});

describe('remote read limits and chunk selection', function () {
  this.timeout(20_000);

  it('refuses a SAMPLES answer over the sample limit as Prometheus words it', async () => {
    const storage = await Storage.open(new MemoryKv());
    try {
      const times = Array.from({ length: 50 }, (_, i) => T0 + i * STEP);
      await storage.append(appendBatchOf([{ labels: [{ name: '__name__', value: 'x' }], timestamps: times, values: new Float64Array(50) }]));
      const koa = (await import('koa')).default;
      const app = new koa();
      app.use(remoteReadHandler(storage, { maxSamplesPerQuery: 49, maxConcurrentReads: 1, maxBytesInFrame: 1024, maxRequestBytes: 1 << 20 }));
      const srv = app.listen(0, '127.0.0.1');
      await new Promise((r) => srv.once('listening', r));
      const port = (srv.address() as { port: number }).port;
      try {
        const body = readBody([{ start: T0, end: T0 + 3600_000, matchers: [[LabelMatcher_Type.EQ, '__name__', 'x']] }], []);
        const res = await post(`http://127.0.0.1:${port}/`, body);
        expect(res.status).to.equal(400);
        expect(await res.text()).to.equal('exceeded sample limit (49)\n');
        // streamed answers have no sample limit (as in Prometheus); the two reads also pass the gate of 1 in turn
        const streamed = await Promise.all(
          [0, 1].map(() =>
            post(`http://127.0.0.1:${port}/`, readBody([{ start: T0, end: T0 + 3600_000, matchers: [[LabelMatcher_Type.EQ, '__name__', 'x']] }], [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS])),
          ),
        );
        for (const r of streamed) expect(r.status).to.equal(200);
      } finally {
        await new Promise((r) => srv.close(r));
      }
    } finally {
      await storage.close();
    }
  });

  it('cuts the connection when a later query of a streamed answer fails, so a partial answer never looks complete', async () => {
    let calls = 0;
    const storage = {
      select: async () => [],
      selectChunks: async () => {
        if (calls++ === 0) return [{ labels: [{ name: '__name__', value: 'x' }], chunks: [{ minTimeMs: 0, maxTimeMs: 0, data: new Uint8Array([0, 0]) }] }];
        throw new MetricstorError('unavailable', 'kv gone');
      },
    };
    const koa = (await import('koa')).default;
    const app = new koa();
    app.silent = true;
    app.use(remoteReadHandler(storage));
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    try {
      const q: Query = { start: 0, end: 10, matchers: [[LabelMatcher_Type.EQ, '__name__', 'x']] };
      const res = await post(`http://127.0.0.1:${(srv.address() as { port: number }).port}/`, readBody([q, q], [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS]));
      expect(res.status).to.equal(200);
      const failed = await res.arrayBuffer().then(
        () => false,
        () => true,
      );
      expect(failed).to.equal(true);
      expect(calls).to.equal(2);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it('splits a series over frames by the byte budget, repeating its labels', () => {
    const chunk = { minTimeMs: 0, maxTimeMs: 1, data: new Uint8Array(400) };
    const frames = [...seriesFrames({ labels: [{ name: '__name__', value: 'x' }], chunks: [chunk, chunk, chunk, chunk, chunk] }, 3n, 1000)];
    const decoded = frames.map((f) => parseFrames(f)[0]!.message);
    expect(decoded.map((m) => m.chunkedSeries[0]!.chunks.length)).to.deep.equal([3, 2]);
    for (const m of decoded) {
      expect(Number(m.queryIndex)).to.equal(3);
      expect(labelsOf(m.chunkedSeries[0]!.labels)).to.equal('__name__=x');
    }
  });

  it('merges and re-encodes a series whose chunks from two writers overlap, so no timestamp is sent twice', async () => {
    const kv = new MemoryKv();
    const a = await Storage.open(kv, { writerId: 1n });
    const b = await Storage.open(kv, { writerId: 2n });
    try {
      const labels = [{ name: '__name__', value: 'dup' }];
      const times = Array.from({ length: 30 }, (_, i) => T0 + i * STEP);
      await a.append(appendBatchOf([{ labels, timestamps: times, values: new Float64Array(times.map((_, i) => i)) }]));
      await b.append(appendBatchOf([{ labels, timestamps: times.slice(10), values: new Float64Array(times.slice(10).map((_, i) => 100 + i)) }]));
      await a.flush();
      await b.flush();
      const params = { matchers: [{ type: '=' as const, name: '__name__', value: 'dup' }], startMs: T0, endMs: T0 + 3600_000 };
      for (const reader of [a, b]) {
        const [series] = await reader.selectChunks(params);
        const runs = series!.chunks.map((c) => decodeXorChunk(c.data));
        const ts = runs.flatMap((r) => [...r.timestamps]);
        const vs = runs.flatMap((r) => [...r.values]);
        const [merged] = await reader.select(params);
        expect(ts).to.deep.equal([...merged!.timestamps]);
        expect(vs).to.deep.equal([...merged!.values]);
        for (let i = 1; i < series!.chunks.length; i++) {
          expect(series!.chunks[i]!.minTimeMs).to.be.greaterThan(series!.chunks[i - 1]!.maxTimeMs);
        }
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
