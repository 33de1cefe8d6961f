/**
 * Scrapes one target at its interval and turns each scrape into samples the way Prometheus 2.42's
 * scrape loop does: target labels and metric relabelling, timestamps at the scrape start (or the
 * exposed ones under honor_timestamps), the synthetic series, and staleness markers for series
 * that vanished since the last scrape, for every series when a scrape fails, and for everything
 * about two intervals after the target itself went away.
 */
import { parseExposition, type ExpositionFormat } from '../ingest/exposition/parse.js';
import { errorMessage } from '../errors.js';
import type { Label } from '../model/labels.js';
import { staleNaNArray } from '../model/value.js';
import type { ScrapeConfig } from './config.js';
import type { AgentMetrics, ScrapeResult } from './metrics.js';
import { BatchBuilder, labelsKey, type SampleSink } from './samples.js';
import { reportSeriesLabels, scrapedSeriesLabels } from './sample-labels.js';
import type { Scraper, ScrapeResponse } from './scrape-http.js';
import type { Target } from './target.js';

const STALE = staleNaNArray();
export const REPORT_METRICS = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
] as const;

export interface ScrapeLoopOptions {
  readonly target: Target;
  readonly config: ScrapeConfig;
  readonly scraper: Scraper;
  readonly sink: SampleSink;
  readonly metrics?: AgentMetrics;
  readonly nowMs?: () => number;
  readonly onError?: (target: Target, message: string) => void;
}

export interface ScrapeOutcome {
  readonly up: boolean;
  readonly scraped: number;
  readonly postRelabel: number;
  readonly staleMarkers: number;
  readonly error?: string;
}

export class ScrapeLoop {
  /** Series written without explicit timestamps by the last scrape, by formatted label set. */
  private previous = new Map<string, readonly Label[]>();
  private readonly reportLabels: readonly (readonly Label[])[];
  private timer: NodeJS.Timeout | undefined;
  private lastScrapeMs: number | undefined;
  private nextTickMs = 0;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly nowMs: () => number;

  constructor(private readonly options: ScrapeLoopOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.reportLabels = REPORT_METRICS.map((m) => reportSeriesLabels(m, options.target.labels));
  }

  get target(): Target {
    return this.options.target;
  }

  /** Starts scraping at the first multiple of the interval past offsetMs (spreads targets apart). */
  start(offsetMs: number): void {
    const interval = this.options.config.scrapeIntervalMs;
    const now = this.nowMs();
    this.nextTickMs = now - (now % interval) + (offsetMs % interval);
    if (this.nextTickMs < now) this.nextTickMs += interval;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const startMs = this.nextTickMs;
      this.nextTickMs += this.options.config.scrapeIntervalMs;
      // A tick that came too late (a stalled process) is skipped rather than run twice.
      while (this.nextTickMs <= this.nowMs()) this.nextTickMs += this.options.config.scrapeIntervalMs;
      this.running = this.scrapeOnce(Math.max(startMs, this.nowMs())).then(
        () => this.schedule(),
        () => this.schedule(),
      );
    }, Math.max(0, this.nextTickMs - this.nowMs()));
  }

  /** One scrape with its samples handed to the sink, timestamped startMs. */
  async scrapeOnce(startMs: number): Promise<ScrapeOutcome> {
    const { config, scraper, metrics } = this.options;
    const t0 = performance.now();
    let response: ScrapeResponse | undefined;
    let error: string | undefined;
    let result: ScrapeResult = 'success';
    try {
      response = await scraper.scrape(config.scrapeTimeoutMs);
    } catch (err) {
      error = errorMessage(err);
      result = /timed out/.test(error) ? 'timeout' : 'http_error';
    }
    const durationS = (performance.now() - t0) / 1000;
    const outcome = this.appendScrape(startMs, response?.body ?? '', response?.format ?? 'prometheus', error, durationS);
    if (outcome.error !== undefined && error === undefined) result = 'parse_error';
    metrics?.scrapes.inc({ job: config.jobName, result });
    metrics?.samplesScraped.inc({ job: config.jobName }, outcome.scraped);
    if (outcome.error !== undefined) this.options.onError?.(this.options.target, outcome.error);
    return outcome;
  }

  /**
   * Turns a scrape (body, or the error that stopped it) into samples. Public for tests: it is the
   * part with Prometheus's semantics, free of timers and sockets.
   */
  appendScrape(startMs: number, body: string, format: ExpositionFormat, scrapeError: string | undefined, durationS: number): ScrapeOutcome {
    const { config, target } = this.options;
    const out = new BatchBuilder();
    const current = new Map<string, readonly Label[]>();
    let scraped = 0;
    let postRelabel = 0;
    let seriesAdded = 0;
    let error = scrapeError;
    if (error === undefined) {
      try {
        const parsed = parseExposition(body, format);
        scraped = parsed.samples.length;
        const seen = new Set<string>();
        for (let i = 0; i < parsed.samples.length; i++) {
          const sample = parsed.samples[i]!;
          const labels = scrapedSeriesLabels(sample.labels, target.labels, config.honorLabels, config.metricRelabelConfigs);
          if (labels === undefined || labels.length === 0) continue;
          const key = labelsKey(labels);
          // A series twice in one scrape: Prometheus keeps the first value and rejects the rest.
          if (seen.has(key)) continue;
          seen.add(key);
          const explicit = config.honorTimestamps && sample.timestampMs !== undefined;
          out.add(labels, explicit ? sample.timestampMs! : startMs, parsed.values, i);
          postRelabel++;
          if (!explicit) {
            current.set(key, labels);
            if (!this.previous.has(key)) seriesAdded++;
          }
        }
      } catch (err) {
        error = errorMessage(err);
      }
    }
    let batch = out;
    if (error !== undefined) {
      // A failed scrape counts as an empty one, so every series of the last scrape goes stale.
      batch = new BatchBuilder();
      current.clear();
      postRelabel = 0;
      seriesAdded = 0;
    }
    let staleMarkers = 0;
    for (const [key, labels] of this.previous) {
      if (current.has(key)) continue;
      batch.add(labels, startMs, STALE, 0);
      staleMarkers++;
    }
    this.previous = current;
    this.lastScrapeMs = startMs;
    const report = new Float64Array([error === undefined ? 1 : 0, durationS, scraped, postRelabel, seriesAdded]);
    this.reportLabels.forEach((labels, i) => batch.add(labels, startMs, report, i));
    this.options.sink.append(batch.build());
    return { up: error === undefined, scraped, postRelabel, staleMarkers, ...(error === undefined ? {} : { error }) };
  }

  /**
   * Stops scraping. When the target went away (not on shutdown), stale markers for its series and
   * the synthetic series follow at the time the next scrape would have run, written just over two
   * intervals later, as Prometheus does so a target that comes straight back sees no gap.
   */
  async stop(reason: 'removed' | 'shutdown', cancelled?: AbortSignal): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
    this.options.scraper.close();
    if (reason === 'shutdown' || this.lastScrapeMs === undefined) return;
    const interval = this.options.config.scrapeIntervalMs;
    const staleMs = this.nextTickMs;
    const waitMs = Math.max(0, staleMs + interval + interval / 10 - this.nowMs());
    const waited = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(true), waitMs);
      cancelled?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (!waited) return;
    this.writeEndOfRunStaleness(staleMs);
  }

  /** Stale markers for every series of the last scrape and for the synthetic series, at staleMs. */
  writeEndOfRunStaleness(staleMs: number): void {
    const batch = new BatchBuilder();
    for (const labels of this.previous.values()) batch.add(labels, staleMs, STALE, 0);
    for (const labels of this.reportLabels) batch.add(labels, staleMs, STALE, 0);
    this.previous = new Map();
    this.options.sink.append(batch.build());
  }
}
