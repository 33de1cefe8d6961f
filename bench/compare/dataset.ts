/** One data set size of the side-by-side benchmark, encoded once and replayed against every system. */
import { countSamples, countSeries, DEFAULT_INTERVAL_MS, samplesPerSeries } from '../data/node-exporter.js';
import type { NodeExporterOptions } from '../data/node-exporter.js';
import { buildRequests, regroup, type Workload } from '../remote-write-requests.js';
import type { ExpectedData } from './ingest-runner.js';

export interface DatasetSize {
  readonly hosts: number;
  readonly hours: number;
}

export interface Dataset {
  readonly size: DatasetSize;
  readonly options: NodeExporterOptions;
  readonly expected: ExpectedData;
  readonly samples: number;
  readonly compressedBytes: number;
  /** The requests over `concurrency` connections (a divisor of the largest concurrency). */
  connections(concurrency: number): Workload[];
}

export function describeSize(size: DatasetSize): string {
  return `${size.hosts} hosts × ${size.hours} h`;
}

export function samplesOf(size: DatasetSize): number {
  return countSamples({ hosts: size.hosts, durationMs: size.hours * 3_600_000 });
}

/**
 * The data ends about now (systems with a retention window reject old samples): the first scrape
 * is `hours` before the current time, rounded down to the scrape interval.
 */
export function buildDataset(size: DatasetSize, maxConcurrency: number, nowMs = Date.now()): Dataset {
  const durationMs = Math.round(size.hours * 3_600_000);
  const startMs = Math.floor((nowMs - durationMs) / DEFAULT_INTERVAL_MS) * DEFAULT_INTERVAL_MS;
  const options: NodeExporterOptions = { hosts: size.hosts, durationMs, startMs };
  const shards = buildRequests(options, maxConcurrency);
  const perSeries = samplesPerSeries(options);
  const byConcurrency = new Map<number, Workload[]>([[maxConcurrency, shards]]);
  return {
    size,
    options,
    samples: countSamples(options),
    compressedBytes: shards.reduce((n, w) => n + w.bodies.reduce((m, b) => m + b.length, 0), 0),
    expected: {
      series: countSeries(options),
      hosts: size.hosts,
      samplesPerSeries: perSeries,
      intervalMs: DEFAULT_INTERVAL_MS,
      lastSampleMs: startMs + (perSeries - 1) * DEFAULT_INTERVAL_MS,
    },
    connections(concurrency) {
      let c = byConcurrency.get(concurrency);
      if (c === undefined) {
        c = regroup(shards, concurrency);
        byConcurrency.set(concurrency, c);
      }
      return c;
    },
  };
}

