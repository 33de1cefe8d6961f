// Range-query throughput of the PromQL engine over in-memory data (no storage cost included).
// Usage: npx tsx bench/promql.ts [series=500] [hours=24]
import { sortLabels } from '../src/model/labels.js';
import { PromqlEngine } from '../src/promql/engine/engine.js';
import { MemoryQueryable } from '../src/promql/testing/memory-queryable.js';

const seriesCount = Number(process.argv[2] ?? 500);
const hours = Number(process.argv[3] ?? 24);
const scrapeMs = 15_000;
const samples = (hours * 3_600_000) / scrapeMs;

const storage = new MemoryQueryable();
const timestamps = Array.from({ length: samples }, (_, i) => i * scrapeMs);
for (let s = 0; s < seriesCount; s++) {
  const values = new Float64Array(samples);
  let v = 0;
  for (let i = 0; i < samples; i++) values[i] = v += (s % 7) + (i % 3);
  const labels = sortLabels([
    { name: '__name__', value: 'http_requests_total' },
    { name: 'instance', value: `host-${s % 50}` },
    { name: 'code', value: String(200 + (s % 5)) },
    { name: 'id', value: String(s) },
  ]);
  storage.add(labels, timestamps, values);
}

const engine = new PromqlEngine(storage);
const endMs = hours * 3_600_000;
const queries: [string, number][] = [
  ['sum by (code) (rate(http_requests_total[5m]))', 60_000],
  ['http_requests_total / on(id) group_left sum by (id) (http_requests_total)', 60_000],
  ['topk(5, max_over_time(http_requests_total[1h]))', 300_000],
  ['quantile by (instance) (0.9, rate(http_requests_total[5m]))', 60_000],
  ['avg_over_time(rate(http_requests_total[5m])[30m:1m])', 300_000],
];
console.log(`${seriesCount} series x ${samples} samples (${(seriesCount * samples) / 1e6}M samples), range ${hours}h`);
// Best of three runs: the machine is shared, so the minimum is the least noisy figure.
for (const [q, stepMs] of queries) {
  let best = Infinity;
  let n = 0;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const out = await engine.rangeQuery(q, 0, endMs, stepMs);
    best = Math.min(best, performance.now() - started);
    n = out.result.resultType === 'matrix' ? out.result.series.length : 0;
  }
  console.log(`${best.toFixed(0).padStart(6)} ms  step ${stepMs / 1000}s  ${n} series  ${q}`);
}
