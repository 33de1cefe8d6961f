import { expect } from 'chai';
import { compressSync } from 'snappy';
import { assertHealthy, Outcomes, prng, report, rssMiB, startFuzzServer, type FuzzServer } from './harness.js';

// Protobuf pieces, written by hand so the tests can produce what no encoder would.
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
}
const tag = (field: number, wireType: number): number[] => varint((field << 3) | wireType);
const lenField = (field: number, body: number[] | Uint8Array): number[] => [...tag(field, 2), ...varint(body.length), ...body];
const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const label = (name: number[], value: number[]): number[] => [...lenField(1, name), ...lenField(2, value)];
const sample = (value: number, tsMs: number): number[] => {
  const f = Buffer.alloc(8);
  f.writeDoubleLE(value);
  return [...tag(1, 1), ...f, ...tag(2, 0), ...varint(tsMs)];
};
const series = (labels: number[][], samples: number[][]): number[] => [
  ...labels.flatMap((l) => lenField(1, l)),
  ...samples.flatMap((s) => lenField(2, s)),
];
const writeRequest = (ts: number[][]): number[] => ts.flatMap((t) => lenField(1, t));

const NOW_MS = Date.now();

function validRequest(rand: () => number): number[] {
  const labels = [label(utf8('__name__'), utf8('fuzz_metric')), label(utf8('k'), utf8(`v${Math.floor(rand() * 5)}`))];
  return writeRequest([series(labels, [sample(rand(), NOW_MS - Math.floor(rand() * 60_000))])]);
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

interface Input {
  readonly kind: string;
  readonly body: Uint8Array;
}

/** One input of each hostile kind, varied by the generator. */
function* hostileBodies(rand: () => number, rounds: number): Generator<Input> {
  const snappy = (raw: number[] | Uint8Array): Uint8Array => new Uint8Array(compressSync(Buffer.from(raw)));
  for (let i = 0; i < rounds; i++) {
    const valid = validRequest(rand);
    yield { kind: 'random bytes', body: randomBytes(rand, Math.floor(rand() * 2048)) };
    yield { kind: 'random protobuf bytes, valid snappy', body: snappy(randomBytes(rand, 1 + Math.floor(rand() * 1024))) };
    const whole = snappy(valid);
    yield { kind: 'truncated snappy', body: whole.subarray(0, Math.floor(rand() * whole.length)) };
    const corrupt = whole.slice();
    for (let k = 0; k < 3; k++) corrupt[Math.floor(rand() * corrupt.length)] = Math.floor(rand() * 256);
    yield { kind: 'corrupt snappy', body: corrupt };
    // A snappy header claiming up to 4 GiB in front of a few bytes.
    const claimed = 0xffffffff - Math.floor(rand() * 1e6);
    yield { kind: 'snappy length far above the body', body: Uint8Array.from([...varint(claimed), ...whole.subarray(1)]) };
    // Protobuf lengths pointing past the end of the message.
    yield { kind: 'protobuf length beyond the body', body: snappy([...tag(1, 2), ...varint(2 ** 31 + Math.floor(rand() * 1e6)), ...valid.slice(0, 8)]) };
    // Valid field numbers with the wrong wire type, inside and outside a TimeSeries.
    const wireType = [0, 1, 3, 4, 5, 6, 7][Math.floor(rand() * 7)]!;
    yield { kind: 'wrong wire type', body: snappy([...tag(1, wireType), ...valid.slice(1)]) };
    yield { kind: 'wrong wire type (nested)', body: snappy(lenField(1, [...tag(2, wireType), 1, 2, 3, 4, 5, 6, 7, 8, 9])) };
    // Varints of 11+ bytes and varints above 2^64.
    const overlong = Array.from({ length: 10 + Math.floor(rand() * 20) }, () => 0xff);
    yield { kind: 'overlong varint', body: snappy([...tag(1, 2), ...overlong, 0x01]) };
    yield { kind: 'huge varint timestamp', body: snappy(writeRequest([series([label(utf8('__name__'), utf8('x'))], [[...tag(1, 1), 0, 0, 0, 0, 0, 0, 0, 0, ...tag(2, 0), ...overlong, 0x7f]])])) };
    // Invalid UTF-8 in a label name and in a label value.
    const bad = [0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80][Math.floor(rand() * 7)]!;
    yield { kind: 'invalid UTF-8 label name', body: snappy(writeRequest([series([label(utf8('__name__'), utf8('x')), label([0x61, bad], utf8('v'))], [sample(1, NOW_MS)])])) };
    yield { kind: 'invalid UTF-8 label value', body: snappy(writeRequest([series([label(utf8('__name__'), [0x78, bad, 0x79])], [sample(1, NOW_MS)])])) };
    yield { kind: 'valid request', body: snappy(valid) };
  }
}

/** A TimeSeries with `count` one-letter labels: about 7 bytes each, so 2 million is ~14 MB decoded. */
function manyTinyLabels(count: number): Uint8Array {
  const one = lenField(1, label([0x61], []));
  const inner = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) inner.set(one, i * one.length);
  const head = [...tag(1, 2), ...varint(inner.length)];
  const raw = new Uint8Array(head.length + inner.length);
  raw.set(head);
  raw.set(inner, head.length);
  return new Uint8Array(compressSync(Buffer.from(raw)));
}

async function post(base: string, body: Uint8Array): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/api/v1/write`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

describe('fuzz: remote write bodies against a running server', function () {
  this.timeout(30_000);
  let fuzz: FuzzServer;
  before(async () => {
    fuzz = await startFuzzServer();
  });
  after(async () => {
    await fuzz.close();
  });

  it('answers every hostile body with a 4xx and a message, stays healthy, memory bounded', async () => {
    const rssBefore = rssMiB();
    const deadline = Date.now() + 15_000;
    const byKind = new Map<string, Outcomes>();
    const all = new Outcomes();
    for (const input of hostileBodies(prng(0x5eed), 40)) {
      if (Date.now() > deadline) break;
      const { status, text } = await post(fuzz.base, input.body);
      const outcomes = byKind.get(input.kind) ?? new Outcomes();
      byKind.set(input.kind, outcomes);
      outcomes.record(status, text, `${input.kind} ${Buffer.from(input.body.subarray(0, 40)).toString('hex')}`);
      all.record(status, text, input.kind);
      if (input.kind === 'valid request') expect(status, text).to.equal(204);
      if (all.tried % 50 === 0) await assertHealthy(fuzz.base);
    }
    for (const [kind, o] of byKind) report(kind, o.summary());
    expect(all.failures, `${all.failures.join('\n')}\n${fuzz.logged.join('')}`).to.deep.equal([]);
    expect(all.tried).to.be.greaterThan(200);
    await assertHealthy(fuzz.base);
    // Everything but the valid requests was refused (a corrupted snappy block can still decode to a valid request).
    const refused = [...byKind].filter(([k]) => k !== 'valid request' && k !== 'corrupt snappy').every(([, o]) => [...o.byStatus.keys()].every((s) => s >= 400));
    expect(refused, [...byKind].map(([k, o]) => `${k}: ${o.summary()}`).join('\n')).to.equal(true);
    expect(rssMiB() - rssBefore).to.be.lessThan(200);
  });

  it('refuses a request of two million tiny labels without running out of memory', async () => {
    const rssBefore = rssMiB();
    const body = manyTinyLabels(2_000_000);
    const { status, text } = await post(fuzz.base, body);
    report('2,000,000 tiny labels', `${body.length} bytes compressed -> ${status} ${text.trim()}`);
    expect(status).to.be.oneOf([400, 413]);
    expect(text).to.match(/label/i);
    await assertHealthy(fuzz.base);
    expect(rssMiB() - rssBefore).to.be.lessThan(300);
  });

  it('refuses a body over the size limit with 413 before reading it all', async () => {
    const body = new Uint8Array(33 * 1024 * 1024);
    const { status, text } = await post(fuzz.base, body).catch(() => ({ status: 413, text: 'connection closed early' }));
    expect(status).to.equal(413);
    expect(text).to.not.equal('');
    await assertHealthy(fuzz.base);
  });
});
