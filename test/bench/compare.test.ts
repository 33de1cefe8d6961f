import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { WriteRequest } from '../../src/generated/prompb/prometheus/remote.js';
import { decodeSnappyBlock } from '../../src/ingest/remote-write/snappy-block.js';
import { countSamples, countSeries, generateSeries } from '../../bench/data/node-exporter.js';
import { buildRequests, regroup, SAMPLES_PER_REQUEST, type Workload } from '../../bench/remote-write-requests.js';
import { parseCpuSeconds, parsePeakRssBytes, parseRssSplit, parseSmapsResidency } from '../../bench/compare/proc-stats.js';
import { BEGIN_MARKER, END_MARKER, renderIngestRatios, renderIngestTable, replaceSection, SECTION_HEADING, type IngestRow } from '../../bench/compare/report.js';

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
    // The figure adds the CPU of waited-for children (servers a test run started) to the process's own.
    expect(cpu).to.be.at.least((used.user + used.system) / 1e6 - 0.05);
    expect(cpu).to.be.greaterThan(0);
    const rss = parsePeakRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
    expect(rss).to.be.at.least(process.memoryUsage().rss * 0.5);
    expect(parseCpuSeconds('42 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 7 3 0')).to.equal(2.1);
    const split = parseRssSplit(readFileSync(`/proc/${pid}/status`, 'utf8'));
    expect(split.anonBytes).to.be.greaterThan(0);
    expect(split.fileBytes).to.be.greaterThan(0);
    // VmHWM was read first; allow for growth between the two reads
    expect(split.anonBytes + split.fileBytes).to.be.at.most(rss + 16 * 2 ** 20);
    expect(parseRssSplit('VmHWM:\t 10 kB\nRssAnon:\t    7 kB\nRssFile:\t 3 kB\n')).to.deep.equal({ anonBytes: 7 * 1024, fileBytes: 3 * 1024 });
  });

  it('splits resident memory by kind of mapping from smaps', () => {
    const mapping = (from: number, kib: number, name: string, rssKb: number): string =>
      `${from.toString(16)}-${(from + kib * 1024).toString(16)} rw-p 00000000 00:00 0      ${name}\nSize:  ${kib} kB\nRss:   ${rssKb} kB\nPss:   ${rssKb} kB\n`;
    const text = [
      mapping(0x1000000, 256, '', 200),
      mapping(0x2000000, 256, '', 56),
      mapping(0x3000000, 132, '[heap]', 100),
      mapping(0x4000000, 65536, '', 3000),
      mapping(0x9000000, 1024, '', 10),
      mapping(0xa000000, 1024, '[stack]', 5),
      mapping(0xb000000, 4096, '/data/kv/data.mdb', 700),
      mapping(0xc000000, 4096, '/usr/bin/node', 40),
    ].join('');
    expect(parseSmapsResidency(text, '/data.mdb')).to.deep.equal({
      v8PagesBytes: 256 * 1024,
      mallocHeapBytes: 100 * 1024,
      largeAnonBytes: 3000 * 1024,
      otherAnonBytes: 15 * 1024,
      dataFileBytes: 700 * 1024,
      otherFileBytes: 40 * 1024,
    });
    // other tests in this process may have a data.mdb mapped, so ask for a name nothing maps
    const own = parseSmapsResidency(readFileSync('/proc/self/smaps', 'utf8'), '/no-such-mapped-file');
    const total = Object.values(own).reduce((a: number, b: number) => a + b, 0);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    expect(total / 1024).to.be.within(rssKb * 0.8, rssKb * 1.2);
    expect(own.dataFileBytes).to.equal(0);
  });

  it('renders ingest rows and ratios, and replaces only the marked section of a document', () => {
    const size = { hosts: 200, hours: 6 };
    const row = (system: string, seconds: number, cpu: number): IngestRow => ({
      size, system, name: system, concurrency: 16, samples: 2_000_000, seconds, cpuSecondsPerMillion: cpu, peakRssBytes: 100 * 2 ** 20, peakAnonBytes: 60 * 2 ** 20, peakFileBytes: 40 * 2 ** 20, p50Ms: 5, p99Ms: 50, retries: 0,
    });
    const rows = [row('metricstor', 10, 4), row('prometheus', 4, 2)];
    const lines = renderIngestTable(rows).split('\n');
    expect(lines).to.have.length(4);
    expect(lines[2]).to.equal('| 200 hosts × 6 h | metricstor | 16 | 2,000,000 | 10.0 | 200,000 | 4.00 | 100 | 60 / 40 | 5.0 | 50.0 |');
    expect(renderIngestRatios(rows, 'metricstor').split('\n')[2]).to.equal('| 200 hosts × 6 h | prometheus | 16 | 2.50× | 0.50× | 1.00× |');

    const doc = `# Title\n\nbefore\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\nafter\n`;
    expect(replaceSection(doc, 'new\n')).to.equal(`# Title\n\nbefore\n\n${BEGIN_MARKER}\nnew\n${END_MARKER}\n\nafter\n`);
    expect(replaceSection('# Title\n', 'new')).to.equal(`# Title\n\n${SECTION_HEADING}\n\n${BEGIN_MARKER}\nnew\n${END_MARKER}\n`);
  });
});
