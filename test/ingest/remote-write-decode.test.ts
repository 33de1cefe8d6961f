import { expect } from 'chai';
import fc from 'fast-check';
import { MetricstorError } from '../../src/errors.js';
import { MetricMetadata_MetricType } from '../../src/generated/prompb/prometheus/types.js';
import { decodeWriteRequestV1 } from '../../src/ingest/remote-write/decode-v1.js';
import { decodeWriteRequestV2 } from '../../src/ingest/remote-write/decode-v2.js';
import { WireReader } from '../../src/ingest/remote-write/wire.js';
import { LabelCache } from '../../src/ingest/label-cache.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import { validateWrite } from '../../src/ingest/validate.js';
import { STALE_NAN_HI, STALE_NAN_LO, isStaleAt } from '../../src/model/value.js';
import { bitsAt, encodeV1, encodeV2, labelsOf, ownSamples, patchDouble, samplesOf, seriesOf, v1Series } from './fixtures.js';

function badDataMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(MetricstorError);
    expect((err as MetricstorError).type).to.equal('bad_data');
    return (err as MetricstorError).message;
  }
  expect.fail('expected bad_data');
}

describe('ingest: remote write 1.0 decoder', () => {
  it('decodes labels, samples and metadata as sent', () => {
    const body = encodeV1(
      [
        v1Series({ labels: { __name__: 'up', job: 'node' }, samples: [{ value: 1, timestamp: 1700000000000 }] }),
        v1Series({
          labels: { job: 'x', __name__: 'temp_celsius' },
          samples: [
            { value: -2.5, timestamp: 1000 },
            { value: 0, timestamp: 0 },
            { value: 7, timestamp: -5000 },
          ],
        }),
      ],
      [{ type: MetricMetadata_MetricType.COUNTER, metricFamilyName: 'http_requests_total', help: 'Requests.', unit: '' }],
    );
    const d = decodeWriteRequestV1(body);
    expect(d.series).to.have.length(2);
    expect(d.samples.length).to.equal(4);
    expect(d.series[0]!.labels).to.deep.equal(labelsOf({ __name__: 'up', job: 'node' }));
    expect(Array.from(samplesOf(d, 0).timestamps)).to.deep.equal([1700000000000]);
    expect(Array.from(samplesOf(d, 0).values)).to.deep.equal([1]);
    // unsorted labels stay as sent; validation sorts them
    expect(d.series[1]!.labels.map((l) => l.name)).to.deep.equal(['job', '__name__']);
    expect(Array.from(samplesOf(d, 1).timestamps)).to.deep.equal([1000, 0, -5000]);
    expect(Array.from(samplesOf(d, 1).values)).to.deep.equal([-2.5, 0, 7]);
    expect(d.metadata).to.deep.equal([
      { metricFamilyName: 'http_requests_total', type: 'counter', help: 'Requests.', unit: '' },
    ]);
  });

  it('copies the staleness marker, NaN payloads and infinities bit for bit', () => {
    let body = encodeV1([
      v1Series({
        labels: { __name__: 'm' },
        samples: [
          { value: 111.5, timestamp: 1 },
          { value: 222.5, timestamp: 2 },
          { value: Infinity, timestamp: 3 },
          { value: -Infinity, timestamp: 4 },
        ],
      }),
    ]);
    body = patchDouble(body, 111.5, STALE_NAN_HI, STALE_NAN_LO);
    body = patchDouble(body, 222.5, 0x7ff80000, 0x00000001);
    const v = samplesOf(decodeWriteRequestV1(body), 0).values;
    expect(isStaleAt(v, 0)).to.equal(true);
    expect(bitsAt(v, 1)).to.deep.equal([0x7ff80000, 0x00000001]);
    expect(isStaleAt(v, 1)).to.equal(false);
    expect(v[2]).to.equal(Infinity);
    expect(v[3]).to.equal(-Infinity);
  });

  it('counts exemplars without keeping them and refuses native histograms naming the series', () => {
    const series = v1Series({ labels: { __name__: 'h' }, samples: [{ value: 1, timestamp: 1 }] });
    series.exemplars = [{ labels: labelsOf({ trace_id: 'a' }), value: 2, timestamp: 3n }];
    expect(decodeWriteRequestV1(encodeV1([series])).exemplarCount).to.equal(1);
    series.histograms = [
      {
        countInt: 3n, sum: 1, schema: 0, zeroThreshold: 0, negativeSpans: [], negativeDeltas: [], negativeCounts: [],
        positiveSpans: [], positiveDeltas: [], positiveCounts: [], resetHint: 0, timestamp: 1n, customValues: [],
      },
    ];
    expect(badDataMessage(() => decodeWriteRequestV1(encodeV1([series])))).to.match(/^series h: native histograms/);
  });

  it('skips unknown fields of every wire type', () => {
    const known = encodeV1([v1Series({ labels: { __name__: 'a' }, samples: [{ value: 3, timestamp: 9 }] })]);
    // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32 before the real content
    const unknown = [0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x02, 0xaa, 0xbb, 0x65, 1, 2, 3, 4];
    const d = decodeWriteRequestV1(Uint8Array.from([...unknown, ...known]));
    expect(d.series[0]!.labels).to.deep.equal(labelsOf({ __name__: 'a' }));
    expect(Array.from(samplesOf(d, 0).values)).to.deep.equal([3]);
  });

  describe('hostile bytes give bad_data with a message', () => {
    const cases: [string, number[], RegExp][] = [
      ['wrong wire type for timeseries', [0x08, 0x01], /field 1 of WriteRequest has wrong wire type 0/],
      ['wrong wire type for a sample value', [0x0a, 0x04, 0x12, 0x02, 0x08, 0x01], /field 1 of Sample has wrong wire type 0/],
      ['length past the end', [0x0a, 0x7f, 0x00], /runs past the end/],
      ['truncated tag varint', [0x8a], /truncated varint/],
      ['overlong length varint', [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 5 bytes/],
      ['group wire type in an unknown field', [0x4b], /unsupported wire type 3/],
      ['field number 0', [0x02, 0x00], /invalid field number 0/],
      ['truncated double', [0x0a, 0x05, 0x12, 0x03, 0x09, 0x00, 0x00], /truncated 64-bit value/],
      [
        'overlong timestamp varint (11 bytes)',
        [0x0a, 0x0d, 0x12, 0x0b, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
        /overflows 64 bits/,
      ],
      [
        'timestamp beyond 2^53',
        [0x0a, 0x0c, 0x12, 0x0a, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        /^series \{\}: sample timestamp is out of range.*safe integers/,
      ],
      ['invalid UTF-8 in a label value', [0x0a, 0x09, 0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0xc3, 0x28], /invalid UTF-8 in label value/],
    ];
    for (const [name, bytes, message] of cases) {
      it(name, () => {
        expect(badDataMessage(() => decodeWriteRequestV1(Uint8Array.from(bytes)))).to.match(message);
      });
    }
  });

  it('never throws anything but bad_data on random or truncated bytes', () => {
    const valid = encodeV1([
      v1Series({ labels: { __name__: 'x', instance: 'h:9100' }, samples: [{ value: 1.5, timestamp: -7 }] }),
    ]);
    for (let cut = 0; cut < valid.length; cut++) {
      try {
        decodeWriteRequestV1(valid.subarray(0, cut));
      } catch (err) {
        expect((err as MetricstorError).type).to.equal('bad_data');
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeWriteRequestV1(bytes);
        } catch (err) {
          return err instanceof MetricstorError && err.type === 'bad_data';
        }
        return true;
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('ingest: remote write 2.0 decoder', () => {
  it('resolves labels through the symbols table and keeps samples and metadata', () => {
    const body = encodeV2([
      {
        labels: { __name__: 'http_request_duration_seconds_bucket', le: '0.5', job: 'api' },
        samples: [{ value: 4, timestamp: 1000 }, { value: 5, timestamp: 2000 }],
        metadata: { type: 3, help: 'Latency.', unit: 'seconds' },
        exemplars: 2,
      },
      { labels: { __name__: 'up', job: 'api' }, samples: [{ value: 1, timestamp: -1 }] },
    ]);
    const d = decodeWriteRequestV2(body);
    expect(d.series.map((s) => s.labels)).to.deep.equal([
      labelsOf({ __name__: 'http_request_duration_seconds_bucket', le: '0.5', job: 'api' }),
      labelsOf({ __name__: 'up', job: 'api' }),
    ]);
    expect(Array.from(samplesOf(d, 0).timestamps)).to.deep.equal([1000, 2000]);
    expect(Array.from(samplesOf(d, 1).timestamps)).to.deep.equal([-1]);
    expect(d.samples.length).to.equal(3);
    expect(d.exemplarCount).to.equal(2);
    expect(d.metadata).to.deep.equal([
      { metricFamilyName: 'http_request_duration_seconds', type: 'histogram', help: 'Latency.', unit: 'seconds' },
    ]);
  });

  it('keeps the staleness marker bit for bit', () => {
    const body = patchDouble(encodeV2([{ labels: { __name__: 'm' }, samples: [{ value: 98.25, timestamp: 5 }] }]), 98.25, STALE_NAN_HI, STALE_NAN_LO);
    expect(isStaleAt(samplesOf(decodeWriteRequestV2(body), 0).values, 0)).to.equal(true);
  });

  it('refuses native histograms, bad symbol references and a non-empty first symbol', () => {
    expect(badDataMessage(() => decodeWriteRequestV2(encodeV2([{ labels: { __name__: 'h' }, samples: [], histograms: 1 }])))).to.match(
      /native histograms are not supported/,
    );
    // symbols ["", "a"], one series with labels_refs [1, 7]
    const badRef = [0x22, 0x00, 0x22, 0x01, 0x61, 0x2a, 0x04, 0x0a, 0x02, 0x01, 0x07];
    expect(badDataMessage(() => decodeWriteRequestV2(Uint8Array.from(badRef)))).to.match(/refers to symbol 7/);
    const oddRefs = [0x22, 0x00, 0x22, 0x01, 0x61, 0x2a, 0x03, 0x0a, 0x01, 0x01];
    expect(badDataMessage(() => decodeWriteRequestV2(Uint8Array.from(oddRefs)))).to.match(/odd length/);
    expect(badDataMessage(() => decodeWriteRequestV2(Uint8Array.from([0x22, 0x01, 0x61])))).to.match(/symbols\[0\] must be the empty string/);
  });

  it('accepts unpacked labels_refs', () => {
    // symbols ["", "__name__", "m"], series with labels_refs as two separate varint fields, one sample {value 0, ts 0}
    const bytes = [0x22, 0x00, 0x22, 0x08, ...Buffer.from('__name__'), 0x22, 0x01, 0x6d, 0x2a, 0x06, 0x08, 0x01, 0x08, 0x02, 0x12, 0x00];
    const d = decodeWriteRequestV2(Uint8Array.from(bytes));
    expect(d.series[0]!.labels).to.deep.equal(labelsOf({ __name__: 'm' }));
    expect(Array.from(samplesOf(d, 0).timestamps)).to.deep.equal([0]);
  });

  it('never throws anything but bad_data on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeWriteRequestV2(bytes);
        } catch (err) {
          return err instanceof MetricstorError && err.type === 'bad_data';
        }
        return true;
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe('ingest: wire reader', () => {
  function int64Of(bytes: number[]): number {
    return new WireReader(Uint8Array.from(bytes)).int64('t');
  }

  it('reads int64 varints including 10-byte negatives', () => {
    expect(int64Of([0x00])).to.equal(0);
    expect(int64Of([0x96, 0x01])).to.equal(150);
    expect(int64Of([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).to.equal(-1);
    // 2^53 - 1 and -(2^53 - 1)
    expect(int64Of([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])).to.equal(Number.MAX_SAFE_INTEGER);
    expect(int64Of([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xf0, 0xff, 0x01])).to.equal(-Number.MAX_SAFE_INTEGER);
    expect(() => int64Of([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xf0, 0xff, 0x01])).to.throw(/out of range/);
    expect(() => int64Of([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])).to.throw(/overflows 64 bits/);
  });

  it('agrees with BigInt arithmetic on random safe integers', () => {
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => {
        let u = BigInt.asUintN(64, BigInt(n));
        const bytes: number[] = [];
        do {
          let b = Number(u & 0x7fn);
          u >>= 7n;
          if (u !== 0n) b |= 0x80;
          bytes.push(b);
        } while (u !== 0n);
        return int64Of(bytes) === n;
      }),
      { numRuns: 2000, seed: 3 },
    );
  });
});

describe('ingest: decode + validate on mutated valid requests', () => {
  const limits = ingestLimits();
  const v1 = encodeV1(
    [
      v1Series({ labels: { __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'idle' }, samples: [{ value: 12.5, timestamp: 1700000000000 }] }),
      v1Series({ labels: { __name__: 'up', job: 'node' }, samples: [{ value: 1, timestamp: -15000 }, { value: 0, timestamp: 0 }] }),
    ],
    [{ type: MetricMetadata_MetricType.GAUGE, metricFamilyName: 'up', help: 'Up.', unit: '' }],
  );
  const v2 = encodeV2([
    { labels: { __name__: 'up', job: 'node' }, samples: [{ value: 1, timestamp: 1000 }], metadata: { type: 2, help: 'Up.', unit: '' }, exemplars: 1 },
  ]);

  for (const [name, body, decode] of [
    ['1.0', v1, (b: Uint8Array, cache?: LabelCache) => decodeWriteRequestV1(b, cache)],
    ['2.0', v2, (b: Uint8Array, _cache?: LabelCache) => decodeWriteRequestV2(b)],
  ] as const) {
    it(`${name}: flipped, inserted and removed bytes give a result or a MetricstorError, the same with a warm label cache`, () => {
      const cache = new LabelCache(16);
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(body.length - 1), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), {
            minLength: 1,
            maxLength: 4,
          }),
          (edits) => {
            const bytes = Array.from(body);
            for (const [at, b, op] of edits) {
              const i = Math.min(at, bytes.length - 1);
              if (op === 'set') bytes[i] = b;
              else if (op === 'insert') bytes.splice(i, 0, b);
              else if (bytes.length > 1) bytes.splice(i, 1);
            }
            const run = (c: LabelCache | undefined): string => {
              try {
                const out = seriesOf(validateWrite(decode(Uint8Array.from(bytes), c), limits, c));
                return JSON.stringify(out.map(ownSamples).map((s) => [s.labels, Array.from(s.timestamps), Buffer.from(s.values.buffer, s.values.byteOffset, s.values.byteLength).toString('hex')]));
              } catch (err) {
                if (err instanceof MetricstorError && (err.type === 'bad_data' || err.type === 'too_large')) return `error ${err.message}`;
                throw err;
              }
            };
            // The label cache must never change an answer: warm-cache and fresh runs agree.
            expect(run(cache)).to.equal(run(undefined));
          },
        ),
        { numRuns: 1500, seed: 11 },
      );
    });
  }
});
