/**
 * Keeps one scrape loop per target of each job: targets come from static_configs and
 * file_sd_configs; when the files change, new targets start and vanished ones stop (their
 * series going stale about two intervals later).
 */
import type { ScrapeConfig } from './config.js';
import { FileDiscovery } from './file-sd.js';
import type { AgentMetrics } from './metrics.js';
import type { SampleSink } from './samples.js';
import { httpScraper, type ClientTlsMaterial, type Scraper } from './scrape-http.js';
import { ScrapeLoop } from './scrape-loop.js';
import { targetsFromGroup, type Target, type TargetGroup } from './target.js';

export interface ScrapeManagerOptions {
  readonly sink: SampleSink;
  readonly metrics?: AgentMetrics;
  /** TLS material per job name, for https targets. */
  readonly tls?: ReadonlyMap<string, ClientTlsMaterial>;
  readonly fileSdPollMs?: number;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
  /** For tests: how a scraper is made for a target URL. */
  readonly makeScraper?: (url: string, tls: ClientTlsMaterial | undefined) => Scraper;
}

interface Job {
  readonly config: ScrapeConfig;
  readonly loops: Map<string, ScrapeLoop>;
  readonly discoveries: FileDiscovery[];
  fileGroups: TargetGroup[][];
}

export class ScrapeManager {
  private readonly jobs: Job[] = [];
  private readonly shutdown = new AbortController();
  private readonly stopping = new Set<Promise<void>>();
  /** Removed targets waiting to write their end-of-run staleness markers, by target key. */
  private readonly pendingStale = new Map<string, AbortController>();

  constructor(
    configs: readonly ScrapeConfig[],
    private readonly options: ScrapeManagerOptions,
  ) {
    for (const config of configs) this.jobs.push({ config, loops: new Map(), discoveries: [], fileGroups: [] });
  }

  start(): void {
    for (const job of this.jobs) {
      job.fileGroups = job.config.fileSdConfigs.map((fc, k) => {
        const d = new FileDiscovery(
          fc,
          (groups) => {
            job.fileGroups[k] = groups;
            this.sync(job);
          },
          {
            ...(this.options.fileSdPollMs === undefined ? {} : { pollMs: this.options.fileSdPollMs }),
            onError: (file, message) => this.options.log?.('file_sd: cannot read file', { job: job.config.jobName, file, message }),
          },
        );
        job.discoveries.push(d);
        return d.start();
      });
      this.sync(job);
    }
  }

  /** Targets being scraped, by job name. */
  targets(): Map<string, Target[]> {
    return new Map(this.jobs.map((j) => [j.config.jobName, [...j.loops.values()].map((l) => l.target)]));
  }

  private sync(job: Job): void {
    const wanted = new Map<string, Target>();
    const groups = [...job.config.staticConfigs, ...job.fileGroups.flat()];
    for (const g of groups) for (const t of targetsFromGroup(g, job.config)) wanted.set(t.key, t);
    for (const [key, loop] of job.loops) {
      if (wanted.has(key)) continue;
      job.loops.delete(key);
      const cancel = new AbortController();
      const onShutdown = (): void => cancel.abort();
      this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
      this.pendingStale.set(key, cancel);
      const p = loop.stop('removed', cancel.signal).finally(() => {
        this.stopping.delete(p);
        this.shutdown.signal.removeEventListener('abort', onShutdown);
        if (this.pendingStale.get(key) === cancel) this.pendingStale.delete(key);
      });
      this.stopping.add(p);
      this.options.log?.('target removed', { job: job.config.jobName, url: loop.target.url });
    }
    const makeScraper = this.options.makeScraper ?? httpScraper;
    for (const [key, target] of wanted) {
      if (job.loops.has(key)) continue;
      // A target back before its end-of-run markers were written: they would land between its
      // new samples, so they are not written (Prometheus relies on them being out of order).
      this.pendingStale.get(key)?.abort();
      this.pendingStale.delete(key);
      const loop = new ScrapeLoop({
        target,
        config: job.config,
        scraper: makeScraper(target.url, this.options.tls?.get(job.config.jobName)),
        sink: this.options.sink,
        ...(this.options.metrics === undefined ? {} : { metrics: this.options.metrics }),
        onError: (t, message) => this.options.log?.('scrape failed', { job: job.config.jobName, url: t.url, message }),
      });
      job.loops.set(key, loop);
      loop.start(hashOffset(key));
    }
    this.options.metrics?.targets.set({ job: job.config.jobName }, job.loops.size);
  }

  /** Stops every loop without stale markers (a restart continues the series). */
  async stop(): Promise<void> {
    this.shutdown.abort();
    for (const job of this.jobs) for (const d of job.discoveries) d.stop();
    await Promise.all([...this.jobs.flatMap((j) => [...j.loops.values()].map((l) => l.stop('shutdown'))), ...this.stopping]);
    for (const job of this.jobs) job.loops.clear();
  }
}

/** Spreads targets over the interval deterministically. */
function hashOffset(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
