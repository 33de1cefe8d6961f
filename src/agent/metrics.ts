/** The agent's own metrics, on a Registry of its own (served at the agent's /metrics). */
import { Counter, Gauge, Registry } from 'prom-client';

export type ScrapeResult = 'success' | 'http_error' | 'timeout' | 'parse_error';
export type DropReason = 'queue_full' | 'rejected' | 'shutdown';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly scrapes = new Counter({
    name: 'metricstor_agent_scrapes_total',
    help: 'Scrapes by job and result.',
    labelNames: ['job', 'result'] as const,
    registers: [this.registry],
  });
  readonly samplesScraped = new Counter({
    name: 'metricstor_agent_samples_scraped_total',
    help: 'Samples read from targets, before metric relabelling.',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  readonly samplesSent = new Counter({
    name: 'metricstor_agent_samples_sent_total',
    help: 'Samples a remote acknowledged with 2xx.',
    labelNames: ['remote'] as const,
    registers: [this.registry],
  });
  readonly samplesRetried = new Counter({
    name: 'metricstor_agent_samples_retried_total',
    help: 'Samples sent again after a 5xx, a 429 or a connection error.',
    labelNames: ['remote'] as const,
    registers: [this.registry],
  });
  readonly samplesDropped = new Counter({
    name: 'metricstor_agent_samples_dropped_total',
    help: 'Samples given up on, by reason: queue_full, rejected (a 4xx other than 429), shutdown.',
    labelNames: ['remote', 'reason'] as const,
    registers: [this.registry],
  });
  readonly queueSamples = new Gauge({
    name: 'metricstor_agent_queue_samples',
    help: 'Samples waiting to be sent.',
    labelNames: ['remote'] as const,
    registers: [this.registry],
  });
  readonly queueBytes = new Gauge({
    name: 'metricstor_agent_queue_bytes',
    help: 'Estimated memory held by waiting samples.',
    labelNames: ['remote'] as const,
    registers: [this.registry],
  });
  readonly targets = new Gauge({
    name: 'metricstor_agent_targets',
    help: 'Targets being scraped, by job.',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
}
