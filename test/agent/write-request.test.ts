import { expect } from 'chai';
import snappy from 'snappy';
import { encodeWriteRequest } from '../../src/agent/write-request.js';
import { decodeWriteRequestV1 } from '../../src/ingest/remote-write/decode-v1.js';
import { isStaleAt, setStaleAt } from '../../src/model/value.js';

describe('agent remote-write encoding', () => {
  it('round-trips through the server decoder, staleness marker bits included', () => {
    const values = new Float64Array([1.5, 0, -2e300]);
    setStaleAt(values, 1);
    const body = encodeWriteRequest([
      {
        labels: [
          { name: '__name__', value: 'up' },
          { name: 'job', value: 'ünïcode' },
        ],
        timestampsMs: new Float64Array([1000, 2000, 1_700_000_000_123]),
        values,
      },
      { labels: [{ name: '__name__', value: 'b' }], timestampsMs: new Float64Array([5]), values: new Float64Array([NaN]) },
    ]);
    const decoded = decodeWriteRequestV1(snappy.uncompressSync(body) as Buffer);
    expect(JSON.stringify(decoded.series.map((s) => s.labels))).to.equal(
      JSON.stringify([
        [
          { name: '__name__', value: 'up' },
          { name: 'job', value: 'ünïcode' },
        ],
        [{ name: '__name__', value: 'b' }],
      ]),
    );
    const { timestamps, values: got } = decoded.samples;
    expect(decoded.series.map((s) => [s.first, s.count])).to.deep.equal([[0, 3], [3, 1]]);
    expect(Array.from(timestamps.subarray(0, 4))).to.deep.equal([1000, 2000, 1_700_000_000_123, 5]);
    expect(got[0]).to.equal(1.5);
    expect(isStaleAt(got, 1)).to.equal(true);
    expect(got[2]).to.equal(-2e300);
    expect(Number.isNaN(got[3])).to.equal(true);
    expect(isStaleAt(got, 3)).to.equal(false);
  });
});
