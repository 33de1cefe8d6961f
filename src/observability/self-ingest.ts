import type { Registry } from 'prom-client';
import { errorMessage } from '../errors.js';
import { importExposition, parseImportParams } from '../ingest/import.js';
import type { IngestLimits } from '../ingest/limits.js';
import { appendSampleCount } from '../ingest/validate.js';
import type { AppendBatch } from '../storage/types.js';
import type { Logger } from './logger.js';

export interface SelfIngestOptions {
  readonly registry: Registry;
  readonly storage: { append(batch: AppendBatch): Promise<void> };
  readonly limits: IngestLimits;
  readonly intervalMs: number;
  /** Added to every series, as a scrape would add them. */
  readonly instance: string;
  readonly logger: Logger;
  readonly nowMs?: () => number;
}

/** Renders the registry and appends it to the storage with job="metricstor" and the instance label. */
export async function ingestOwnMetrics(options: SelfIngestOptions): Promise<number> {
  const nowMs = options.nowMs ?? Date.now;
  const text = await options.registry.metrics();
  const query = new URLSearchParams();
  query.append('extra_label', 'job=metricstor');
  query.append('extra_label', `instance=${options.instance}`);
  const { appends } = importExposition(Buffer.from(text), 'prometheus', parseImportParams(query, nowMs()), options.limits);
  if (appends.length > 0) await options.storage.append(appends);
  return appendSampleCount(appends);
}

/** Runs ingestOwnMetrics every interval until stopped; a failed round is logged and skipped. */
export function startSelfIngest(options: SelfIngestOptions): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= ingestOwnMetrics(options)
      .then(
        () => undefined,
        (err: unknown) => options.logger.warn('self-monitoring ingest failed', { error: errorMessage(err) }),
      )
      .finally(() => {
        running = null;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
