/** Test data in remote-write form, pushed with the generated prompb code and snappy. */

export interface TestSeries {
  readonly labels: Record<string, string>;
  readonly timestamps: number[];
  readonly values: number[];
}

/**
 * A small node_exporter-like data set: counters, gauges with fractions, a series that stops,
 * and one with a label value needing JSON escaping. Deterministic for a given end time.
 */
export function generateSeries(endMs: number, points: number, stepMs: number): TestSeries[] {
  const startMs = endMs - (points - 1) * stepMs;
  const times = Array.from({ length: points }, (_, i) => startMs + i * stepMs);
  const out: TestSeries[] = [];
  for (let host = 0; host < 3; host++) {
    const instance = `host-${host}:9100`;
    out.push({
      labels: { __name__: 'up', instance, job: 'node' },
      timestamps: times,
      values: times.map((_, i) => (host === 2 && i % 4 === 0 ? 0 : 1)),
    });
    out.push({
      labels: { __name__: 'node_load1', instance, job: 'node' },
      timestamps: times,
      values: times.map((_, i) => Math.round((0.25 + host * 0.5 + Math.sin(i / 5) * 0.2) * 1000) / 1000),
    });
    for (const mode of ['idle', 'user', 'system']) {
      for (let cpu = 0; cpu < 2; cpu++) {
        const rate = mode === 'idle' ? 0.9 : mode === 'user' ? 0.07 + host * 0.01 : 0.03;
        out.push({
          labels: { __name__: 'node_cpu_seconds_total', cpu: String(cpu), instance, job: 'node', mode },
          timestamps: times,
          values: times.map((_, i) => Math.round(i * (stepMs / 1000) * rate * 100 + cpu * 7) / 100),
        });
      }
    }
  }
  for (const code of ['200', '500']) {
    out.push({
      labels: { __name__: 'http_requests_total', code, handler: '/api/v1/<query>&x', job: 'api' },
      timestamps: times,
      values: times.map((_, i) => (code === '200' ? i * 10 : Math.floor(i / 4))),
    });
  }
  // A series that ends halfway: instant queries at the end must not see it.
  const half = Math.floor(points / 2);
  out.push({
    labels: { __name__: 'batch_last_success', job: 'batch' },
    timestamps: times.slice(0, half),
    values: times.slice(0, half).map((t) => t / 1000),
  });
  return out;
}

export { encodeWriteRequest, pushRemoteWrite } from '../../src/promql/testing/remote-write.js';
