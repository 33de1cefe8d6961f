import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { generateSeries } from '../../bench/data/node-exporter.js';
import { BENCH_QUERIES, benchmarkQueries, renderQueryReport, type QueryMeasurement, type QueryReport } from '../../bench/compare/queries.js';
import { answersDiffer, parseAnswer } from '../../bench/compare/query-answer.js';
import type { QueryKind } from '../../bench/compare/query-http.js';
import { summarise, worstQueries } from '../../bench/compare/query-report.js';
import { parseExpr } from '../../src/promql/parser/index.js';
import { pushRemoteWrite } from '../../src/promql/testing/remote-write.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { tempDir } from '../helpers/tmp.js';

function measurement(system: string, cls: string, query: string, kind: QueryKind, timesMs: number[], failure?: string): QueryMeasurement {
  return { system, cls, query, kind, timesMs, series: 1, points: 1, ...(failure === undefined ? {} : { failure }) };
}

/**
 * Prometheus answers query i (1..20) of class "a" in i ms, Metricstor in 2i ms; each as three
 * repetitions whose median is that figure. Class "b" has one query per system, 4 ms and 1 ms.
 */
function syntheticReport(): QueryReport {
  const measurements: QueryMeasurement[] = [];
  for (let i = 1; i <= 20; i++) {
    measurements.push(measurement('prometheus', 'a', `q${i}`, 'instant', [i * 3, i, i * 0.5]));
    measurements.push(measurement('metricstor', 'a', `q${i}`, 'instant', [2 * i, 2 * i * 0.25, 2 * i * 10]));
  }
  measurements.push(measurement('prometheus', 'b', 'slow', 'instant', [4, 4, 4]));
  measurements.push(measurement('metricstor', 'b', 'slow', 'instant', [1, 1, 1]));
  measurements.push(measurement('metricstor', 'b', 'broken', 'instant', [], 'bad_data: no'));
  measurements.push(measurement('prometheus', 'b', 'broken', 'instant', [2, 2, 2]));
  return {
    systems: ['metricstor', 'prometheus'],
    reps: 3,
    timeoutMs: 60_000,
    measurements,
    answerReference: 'prometheus',
    informational: [],
    answersCompared: 22,
    mismatches: [{ system: 'metricstor', cls: 'a', query: 'q3', kind: 'instant', detail: '1 series vs 2' }],
  };
}

describe('bench: query list and report', () => {
  it('has at least 300 distinct queries, each in a named class', () => {
    const texts = BENCH_QUERIES.map((q) => q.query);
    expect(new Set(texts).size).to.equal(texts.length);
    expect(texts.length).to.be.at.least(300);
    for (const q of BENCH_QUERIES) expect(q.cls, q.query).to.match(/\S/);
    expect(new Set(BENCH_QUERIES.map((q) => q.cls)).size).to.be.at.least(20);
  });

  it('holds only queries our parser accepts', () => {
    const rejected = BENCH_QUERIES.filter((q) => {
      try {
        parseExpr(q.query);
        return false;
      } catch {
        return true;
      }
    });
    expect(rejected.map((q) => q.query)).to.deep.equal([]);
  });

  it('takes p50 and p95 over per-query medians, by nearest rank, and divides by the reference', () => {
    const report = syntheticReport();
    // 20 queries: p50 is the 10th smallest, p95 the 19th.
    expect(summarise(report, 'prometheus', 'instant', 'a')).to.include({ queries: 20, failed: 0, p50Ms: 10, p95Ms: 19 });
    expect(summarise(report, 'metricstor', 'instant', 'a')).to.include({ queries: 20, failed: 0, p50Ms: 20, p95Ms: 38 });
    // The failed query has no latency but is counted.
    expect(summarise(report, 'metricstor', 'instant', 'b')).to.include({ queries: 2, failed: 1, p50Ms: 1, p95Ms: 1 });
    expect(summarise(report, 'metricstor', 'instant').cpuS).to.be.NaN;
    const md = renderQueryReport(report, 'prometheus');
    expect(md).to.include('| a | 20 | 20.0 / 38.0 | 10.0 / 19.0 | 2.00× / 2.00× |');
    expect(md).to.include('| b | 2 | 1.00 / 1.00 (1 failed) | 2.00 / 4.00 | 0.50× / 0.25× |');
    // Over all queries: Prometheus 1..20, 4, 2 (22 latencies: the 11th and 21st smallest);
    // Metricstor 2, 4 .. 40 and 1 (21 latencies: the 11th and 20th smallest).
    expect(md).to.include('| instant | metricstor | 22 | 1 | 20.0 | 38.0 | 2.22× | 2.00× |');
    expect(md).to.include('| instant | prometheus | 22 | 0 | 9.00 | 19.0 |  |  |');
    expect(md).to.include('- metricstor, instant: `broken`: bad_data: no');
    expect(md).to.include('- instant: `q3`: 1 series vs 2');
    expect(md).to.not.include('CPU');
  });

  it('sums server CPU per kind and class and divides it by the reference', () => {
    const base = syntheticReport();
    const cpuMs = (m: QueryMeasurement): number => (m.system === 'prometheus' ? 10 : 30);
    const report: QueryReport = { ...base, measurements: base.measurements.map((m) => (m.timesMs.length === 0 ? m : { ...m, cpuMs: cpuMs(m) })) };
    // 22 queries at 10 ms for Prometheus; 21 at 30 ms for Metricstor (the failed one has none).
    expect(summarise(report, 'prometheus', 'instant').cpuS).to.be.closeTo(0.22, 1e-9);
    expect(summarise(report, 'metricstor', 'instant').cpuS).to.be.closeTo(0.63, 1e-9);
    const md = renderQueryReport(report, 'prometheus');
    expect(md).to.include('| instant | metricstor | 22 | 1 | 20.0 | 38.0 | 0.63 | 2.22× | 2.00× | 2.86× |');
    expect(md).to.include('| a | 20 | 20.0 / 38.0 | 10.0 / 19.0 | 2.00× / 2.00× / 3.00× |');
  });

  it('lists the worst queries by ratio, worst first', () => {
    const worst = worstQueries(syntheticReport(), 'metricstor', 'prometheus', 3);
    expect(worst.map((w) => [w.query, w.ratio])).to.deep.equal([
      ['q1', 2],
      ['q2', 2],
      ['q3', 2],
    ]);
    const all = worstQueries(syntheticReport(), 'metricstor', 'prometheus', 100);
    expect(all.at(-1)).to.include({ query: 'slow', ratio: 0.25 });
    expect(all.map((w) => w.query)).to.not.include('broken');
  });

  it('compares answers regardless of series order, within 1e-6 relative', () => {
    const body = (values: readonly [string, string][]): string =>
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: values.map(([instance, v]) => ({ metric: { instance }, value: [100, v] })) },
      });
    const ours = parseAnswer(200, body([['b', '2'], ['a', '1.0000001']]));
    expect(answersDiffer(ours, parseAnswer(200, body([['a', '1'], ['b', '2']])), 'ours', 'theirs')).to.equal(null);
    expect(answersDiffer(ours, parseAnswer(200, body([['a', '1.00001'], ['b', '2']])), 'ours', 'theirs')).to.include('point 0');
    expect(answersDiffer(ours, parseAnswer(200, body([['a', '1']])), 'ours', 'theirs')).to.include('2 series vs 1');
    const error = parseAnswer(400, JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }));
    expect(answersDiffer(error, ours, 'ours', 'theirs')).to.include('ours failed (parse error)');
    expect(answersDiffer(error, error, 'ours', 'theirs')).to.equal(null);
  });
});

describe('bench: query runner against a server', function () {
  this.timeout(60_000);
  let server: RunningServer | undefined;
  let dataDir = '';
  const endMs = Math.floor(Date.now() / 60_000) * 60_000;

  before(async () => {
    dataDir = await tempDir('bench-queries');
    server = await startServer(testConfig(dataDir));
    const data = generateSeries({ hosts: 2, durationMs: 40 * 60_000, startMs: endMs - 40 * 60_000 });
    await pushRemoteWrite(
      `http://${server.httpAddress}`,
      data.map((s) => ({ labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])), timestamps: s.timestamps, values: s.values })),
    );
  });

  after(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('times every query, kind and system, and finds one server agreeing with itself', async () => {
    const baseUrl = `http://${server!.httpAddress}`;
    const queries = [
      { cls: 'rate', query: 'rate(node_network_receive_bytes_total[5m])' },
      { cls: 'sum', query: 'sum by (mode) (rate(node_cpu_seconds_total[5m]))' },
      { cls: 'invalid', query: 'rate(node_load1)' },
    ];
    const report = await benchmarkQueries(
      [
        { name: 'metricstor', baseUrl, pid: process.pid },
        { name: 'prometheus', baseUrl },
      ],
      { dataStartMs: endMs - 40 * 60_000, dataEndMs: endMs - 15_000, reps: 2, hostsInData: 2, queries, timeoutMs: 10_000 },
    );
    expect(report.measurements).to.have.length(3 * 3 * 2);
    expect(report.answersCompared).to.equal(9);
    expect(report.mismatches).to.deep.equal([]);
    for (const m of report.measurements) {
      if (m.cls === 'invalid') {
        expect(m.failure, m.query).to.match(/range vector/);
        expect(m.timesMs).to.deep.equal([]);
      } else {
        expect(m.failure, `${m.kind} ${m.query}`).to.equal(undefined);
        expect(m.timesMs).to.have.length(2);
        expect(m.series).to.be.greaterThan(0);
        if (m.system === 'metricstor') expect(m.cpuMs).to.be.at.least(0);
        else expect(m.cpuMs).to.equal(undefined);
      }
    }
    const rate30m = report.measurements.find((m) => m.cls === 'rate' && m.kind === 'range 30m')!;
    // 2 hosts × 2 devices, 61 steps of 30 s.
    expect([rate30m.series, rate30m.points]).to.deep.equal([4, 4 * 61]);
  });
});
