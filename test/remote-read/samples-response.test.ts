/** The hand-written ReadResponse encoder against the generated decoder. */
import { expect } from 'chai';
import { ReadResponse } from '../../src/generated/prompb/prometheus/remote.js';
import { encodeReadResponse } from '../../src/remote-read/samples-response.js';

describe('remote read SAMPLES encoding', () => {
  it('decodes with the generated code to the same series, including time 0, negative times and unicode labels', () => {
    const series = [
      {
        labels: [
          { name: '__name__', value: 'größe' },
          { name: 'empty', value: '' },
        ],
        timestamps: new Float64Array([-1_000_000_000_123, -1, 0, 1, 2 ** 40, Number.MAX_SAFE_INTEGER]),
        values: new Float64Array([1.5, -0, Infinity, -Infinity, 1e-300, 42]),
      },
      { labels: [{ name: 'a', value: 'b' }], timestamps: new Float64Array(0), values: new Float64Array(0) },
    ];
    const bytes = encodeReadResponse([series, [], [series[0]!]]);
    const decoded = ReadResponse.decode(bytes);
    expect(decoded.results).to.have.length(3);
    expect(decoded.results[1]!.timeseries).to.deep.equal([]);
    for (const r of [decoded.results[0]!, decoded.results[2]!]) {
      const ts = r.timeseries[0]!;
      expect(ts.labels).to.deep.equal([
        { name: '__name__', value: 'größe' },
        { name: 'empty', value: '' },
      ]);
      expect(ts.samples.map((s) => Number(s.timestamp))).to.deep.equal([...series[0]!.timestamps]);
      expect(ts.samples.map((s) => Object.is(s.value, -0) ? '-0' : s.value)).to.deep.equal([1.5, '-0', Infinity, -Infinity, 1e-300, 42]);
    }
    expect(decoded.results[0]!.timeseries[1]!.labels).to.deep.equal([{ name: 'a', value: 'b' }]);
  });
});
