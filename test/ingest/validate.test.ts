import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import type { RawSeries } from '../../src/ingest/types.js';
import { SamplesBuffer } from '../../src/ingest/samples-buffer.js';
import { validateWrite } from '../../src/ingest/validate.js';
import { STALE_NAN_HI, STALE_NAN_LO, isStaleAt, setStaleAt } from '../../src/model/value.js';
import { bitsAt, labelsOf, ownSamples, seriesOf } from './fixtures.js';

interface Spec {
  labels: { name: string; value: string }[];
  timestamps: number[];
  values: Float64Array;
}

function raw(labels: Record<string, string> | { name: string; value: string }[], ts: number[] = [1], vals?: Float64Array): Spec {
  return {
    labels: Array.isArray(labels) ? labels : labelsOf(labels),
    timestamps: ts,
    values: vals ?? Float64Array.from(ts.map((_, i) => i)),
  };
}

function validate(specs: Spec[], overrides = {}) {
  const samples = new SamplesBuffer(1);
  const series: RawSeries[] = specs.map((spec) => {
    const first = samples.length;
    spec.timestamps.forEach((t, i) => samples.pushFrom(t, spec.values, i));
    return { labels: spec.labels, first, count: spec.timestamps.length };
  });
  return seriesOf(validateWrite({ series, samples, metadata: [], exemplarCount: 0 }, ingestLimits(overrides))).map(ownSamples);
}

function rejection(fn: () => unknown): MetricstorError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(MetricstorError);
    return err as MetricstorError;
  }
  expect.fail('expected a rejection');
}

describe('ingest: validation', () => {
  it('sorts labels and drops empty-valued ones', () => {
    const [s] = validate([raw({ zone: 'a', __name__: 'm', empty: '', app: 'x' })]);
    expect(s!.labels).to.deep.equal(labelsOf({ __name__: 'm', app: 'x', zone: 'a' }));
  });

  it('merges repeats of one series within a request, keeping every value bit', () => {
    const v1 = new Float64Array(1);
    setStaleAt(v1, 0);
    const out = validate([
      raw({ __name__: 'm', a: '1' }, [10], Float64Array.of(1)),
      raw({ __name__: 'n' }, [10], Float64Array.of(5)),
      raw({ a: '1', __name__: 'm' }, [20], v1),
      raw({ __name__: 'm', a: '1' }, [30], Float64Array.of(3)),
    ]);
    expect(out).to.have.length(2);
    expect(out[0]!.labels).to.deep.equal(labelsOf({ __name__: 'm', a: '1' }));
    expect(Array.from(out[0]!.timestamps)).to.deep.equal([10, 20, 30]);
    expect(out[0]!.values[0]).to.equal(1);
    expect(isStaleAt(out[0]!.values, 1)).to.equal(true);
    expect(bitsAt(out[0]!.values, 1)).to.deep.equal([STALE_NAN_HI, STALE_NAN_LO]);
    expect(out[0]!.values[2]).to.equal(3);
  });

  it('hands out appends that share two columns, each with its range of them', () => {
    const samples = new SamplesBuffer(1);
    [10, 20, 30].forEach((t, i) => samples.pushFrom(t, Float64Array.of(1, 2, 3), i));
    for (const second of [{ __name__: 'm', a: '2' }, { __name__: 'm', a: '1' }]) {
      const series: RawSeries[] = [
        { labels: labelsOf({ __name__: 'm', a: '1' }), first: 0, count: 2 },
        { labels: labelsOf(second), first: 2, count: 1 },
      ];
      const out = seriesOf(validateWrite({ series, samples, metadata: [], exemplarCount: 0 }, ingestLimits()));
      expect(out.every((a) => a.timestamps === out[0]!.timestamps && a.values === out[0]!.values)).to.equal(true);
      expect(out.map((a) => [a.start, a.end])).to.deep.equal(out.length === 2 ? [[0, 2], [2, 3]] : [[0, 3]]);
      expect(out.map((a) => Array.from(ownSamples(a).values))).to.deep.equal(out.length === 2 ? [[1, 2], [3]] : [[1, 2, 3]]);
    }
  });

  it('does not merge series whose values only look alike when concatenated', () => {
    const out = validate([raw({ __name__: 'm', a: 'x', b: 'y' }), raw({ __name__: 'm', a: 'x=1:yb' })]);
    expect(out).to.have.length(2);
  });

  it('accepts NaN, infinities, negative and old timestamps', () => {
    const out = validate([raw({ __name__: 'm' }, [-1000, 0, 5], Float64Array.of(NaN, Infinity, -Infinity))]);
    expect(Array.from(out[0]!.timestamps)).to.deep.equal([-1000, 0, 5]);
  });

  const rejections: [string, Spec, RegExp][] = [
    ['missing __name__', raw({ job: 'x' }), /^series \{job="x"\} has no metric name/],
    ['empty __name__', raw({ __name__: '', job: 'x' }), /has no metric name/],
    ['invalid metric name', raw({ __name__: '1bad' }), /invalid metric name "1bad"/],
    ['invalid label name', raw({ __name__: 'm', 'bad-name': 'x' }), /^series m\{bad-name="x"\}: invalid label name "bad-name"/],
    ['duplicate label names', raw([{ name: '__name__', value: 'm' }, { name: 'a', value: '1' }, { name: 'a', value: '2' }]), /label name "a" is not unique/],
    ['timestamp beyond safe integers', raw({ __name__: 'm' }, [2 ** 60]), /out of range; timestamps must be integer milliseconds within/],
    ['fractional timestamp', raw({ __name__: 'm' }, [1.5]), /out of range/],
  ];
  for (const [name, series, message] of rejections) {
    it(`rejects ${name} with bad_data naming the series`, () => {
      const err = rejection(() => validate([raw({ __name__: 'ok' }), series]));
      expect(err.type).to.equal('bad_data');
      expect(err.message).to.match(message);
    });
  }

  it('enforces per-series limits with bad_data', () => {
    const many = raw(Object.fromEntries([['__name__', 'm'], ...Array.from({ length: 5 }, (_, i) => [`l${i}`, 'v'])]));
    expect(rejection(() => validate([many], { maxLabelsPerSeries: 5 })).message).to.match(/has 6 labels, more than the limit of 5/);
    expect(validate([many], { maxLabelsPerSeries: 6 })).to.have.length(1);
    expect(rejection(() => validate([raw({ __name__: 'm', abcdefghi: 'v' })], { maxLabelNameLength: 8 })).message).to.match(
      /label name of 9 characters is longer than the limit of 8/,
    );
    expect(rejection(() => validate([raw({ __name__: 'm', a: 'x'.repeat(11) })], { maxLabelValueLength: 10 })).type).to.equal('bad_data');
  });

  it('enforces per-request limits with too_large', () => {
    const two = [raw({ __name__: 'a' }), raw({ __name__: 'b' }, [1, 2])];
    expect(rejection(() => validate(two, { maxSeriesPerRequest: 1 })).type).to.equal('too_large');
    expect(rejection(() => validate(two, { maxSamplesPerRequest: 2 })).message).to.match(/3 samples, more than the limit of 2/);
    expect(validate(two, { maxSeriesPerRequest: 2, maxSamplesPerRequest: 3 })).to.have.length(2);
  });

  it('rejects invalid limit settings', () => {
    expect(() => ingestLimits({ maxBodyBytes: 0 })).to.throw(/maxBodyBytes must be a positive integer/);
  });
});
