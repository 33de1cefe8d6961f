import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { WriteRequest } from '../../src/generated/prompb/prometheus/remote.js';
import { decodeSnappyBlock } from '../../src/ingest/remote-write/snappy-block.js';
import { countSamples, countSeries, generateSeries } from '../../bench/data/node-exporter.js';
import { buildRequests, regroup, SAMPLES_PER_REQUEST, type Workload } from '../../bench/remote-write-requests.js';
import { parseCpuSeconds, parsePeakRssBytes } from '../../bench/compare/proc-stats.js';

const MAX_DECODED = 64 * 1024 * 1024;

/** Every sample of every connection as [series key, timestamp, value], per connection in send order. */
function decodeAll(connections: readonly Workload[]): { series: string; t: number; v: number }[][] {
  return connections.map((w) => {
    const out: { series: string; t: number; v: number }[] = [];
    for (const body of w.bodies) {
      const req = WriteRequest.decode(decodeSnappyBlock(body, MAX_DECODED));
      expect(req.timeseries.length).to.be.at.most(SAMPLES_PER_REQUEST);
      for (const ts of req.timeseries) {
        expect(ts.samples).to.have.length(1);
        const series = ts.labels.map((l) => `${l.name}=${l.value}`).join(',');
        out.push({ series, t: Number(ts.samples[0]!.timestamp), v: ts.samples[0]!.value });
      }
    }
    return out;
  });
}

describe('bench: side-by-side harness, pure parts', () => {
  const data = { hosts: 3, durationMs: 20 * 60_000, jitterMs: 500 };

  it('encodes every generated sample once, each series on one connection in time order', () => {
    const shards = buildRequests(data, 4);
    const expected = new Map<string, { t: number; v: number }[]>();
    for (const s of generateSeries(data)) {
      const key = s.labels.map((l) => `${l.name}=${l.value}`).join(',');
      expected.set(key, Array.from(s.timestamps, (t, i) => ({ t, v: s.values[i]! })));
    }
    for (const connections of [shards, regroup(shards, 2), regroup(shards, 1)]) {
      expect(connections.reduce((n, w) => n + w.samples, 0)).to.equal(countSamples(data));
      const seen = new Map<string, { t: number; v: number }[]>();
      const owner = new Map<string, number>();
      decodeAll(connections).forEach((samples, c) => {
        for (const { series, t, v } of samples) {
          expect(owner.get(series) ?? c, `series ${series} on one connection`).to.equal(c);
          owner.set(series, c);
          const list = seen.get(series) ?? [];
          list.push({ t, v });
          seen.set(series, list);
        }
      });
      expect(seen.size).to.equal(countSeries(data));
      for (const [series, samples] of seen) expect(samples, series).to.deep.equal(expected.get(series));
    }
  });

  it('reads CPU time and peak RSS of this process from /proc', () => {
    const pid = process.pid;
    const cpu = parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const used = process.cpuUsage();
    expect(cpu).to.be.within(0, (used.user + used.system) / 1e6 + 0.05);
    expect(cpu).to.be.greaterThan(0);
    const rss = parsePeakRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
    expect(rss).to.be.at.least(process.memoryUsage().rss * 0.5);
    expect(parseCpuSeconds('42 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 7 3 0')).to.equal(2.1);
  });
});
