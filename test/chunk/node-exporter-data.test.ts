import { expect } from 'chai';
import {
  SERIES_PER_HOST,
  countSamples,
  countSeries,
  generateSeries,
  generateSeriesSlices,
  seriesDefinitions,
} from '../../bench/data/node-exporter.js';
import { formatLabels } from '../../src/model/labels.js';

// The benchmark data generator is shared by the chunk, storage and ingest benchmarks.
describe('bench/data/node-exporter', () => {
  const opts = { hosts: 2, durationMs: 20 * 60_000, jitterMs: 30, seed: 3 };

  it('makes 75 distinct, sorted label sets per host with instance and job', () => {
    const defs = seriesDefinitions(opts);
    expect(defs).to.have.length(2 * SERIES_PER_HOST);
    expect(countSeries(opts)).to.equal(defs.length);
    expect(new Set(defs.map((d) => formatLabels(d.labels))).size).to.equal(defs.length);
    for (const { labels } of defs) {
      const names = labels.map((l) => l.name);
      expect(names).to.deep.equal([...names].sort());
      expect(names).to.include.members(['__name__', 'instance', 'job']);
    }
    expect(defs.filter((d) => d.kind === 'histogram')).to.have.length(2 * 14);
  });

  it('gives the same samples whatever the slice size, with increasing timestamps', () => {
    const whole = generateSeries(opts);
    expect(whole.reduce((n, s) => n + s.timestamps.length, 0)).to.equal(countSamples(opts));
    const slices = [...generateSeriesSlices(opts, 3 * 60_000 + 1)];
    expect(slices.length).to.be.greaterThan(1);
    whole.forEach((s, k) => {
      const ts = slices.flatMap((slice) => Array.from(slice[k]!.timestamps));
      const vs = slices.flatMap((slice) => Array.from(slice[k]!.values));
      expect(ts).to.deep.equal(Array.from(s.timestamps));
      expect(vs).to.deep.equal(Array.from(s.values));
      for (let i = 1; i < ts.length; i++) expect(ts[i]! > ts[i - 1]!).to.equal(true);
    });
  });

  it('is deterministic per seed and keeps histogram buckets cumulative', () => {
    const a = generateSeries(opts);
    const b = generateSeries(opts);
    expect(a.map((s) => Array.from(s.values))).to.deep.equal(b.map((s) => Array.from(s.values)));
    const c = generateSeries({ ...opts, seed: 4 });
    expect(c.map((s) => Array.from(s.values))).to.not.deep.equal(a.map((s) => Array.from(s.values)));
    const buckets = a.filter((s) => s.labels.some((l) => l.value === 'http_request_duration_seconds_bucket')).slice(0, 12);
    const count = a.find((s) => s.labels.some((l) => l.value === 'http_request_duration_seconds_count'))!;
    for (let i = 0; i < count.values.length; i++) {
      for (let j = 1; j < buckets.length; j++) expect(buckets[j]!.values[i]).to.be.at.least(buckets[j - 1]!.values[i]!);
      expect(buckets.at(-1)!.values[i]).to.equal(count.values[i]);
    }
  });
});
