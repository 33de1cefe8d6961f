import { expect } from 'chai';
import { parseAgentConfig, type ScrapeConfig } from '../../src/agent/config.js';
import type { SampleBatch } from '../../src/agent/samples.js';
import { ScrapeLoop } from '../../src/agent/scrape-loop.js';
import { scrapedSeriesLabels } from '../../src/agent/sample-labels.js';
import { targetsFromGroup, type Target } from '../../src/agent/target.js';
import { formatLabels, type Label } from '../../src/model/labels.js';
import { isStaleAt } from '../../src/model/value.js';

const L = (o: Record<string, string>): Label[] =>
  Object.entries(o)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

function scrapeConfig(extra = ''): ScrapeConfig {
  const config = parseAgentConfig(
    `scrape_configs:\n  - job_name: node\n    scrape_interval: 1s\n    scrape_timeout: 500ms\n${extra}`,
    '/',
  );
  return config.scrapeConfigs[0]!;
}

interface Row {
  readonly series: string;
  readonly t: number;
  readonly v: number;
  readonly stale: boolean;
}

function rows(batch: SampleBatch): Row[] {
  return batch.series.map((s, i) => ({
    series: formatLabels(s),
    t: batch.timestampsMs[i]!,
    v: batch.values[i]!,
    stale: isStaleAt(batch.values, i),
  }));
}

function loopFor(config: ScrapeConfig, target: Target): { loop: ScrapeLoop; batches: SampleBatch[] } {
  const batches: SampleBatch[] = [];
  const loop = new ScrapeLoop({
    target,
    config,
    scraper: { scrape: () => Promise.reject(new Error('not used')), close: () => undefined },
    sink: { append: (b) => batches.push(b) },
  });
  return { loop, batches };
}

describe('agent targets and sample labels', () => {
  it('builds job, instance and URL; relabel_configs see __address__ and meta labels', () => {
    const config = scrapeConfig(
      [
        '    params: {format: [prometheus]}',
        '    relabel_configs:',
        '      - {source_labels: [__meta_filepath], regex: ".*/(.*)\\\\.json", target_label: source}',
        '      - {source_labels: [__address__], regex: "(.*):9102", action: drop}',
        '',
      ].join('\n'),
    );
    const targets = targetsFromGroup(
      { targets: ['127.0.0.1:9101', '127.0.0.1:9102', 'host'], labels: L({ env: 'prod' }), sourceLabels: L({ __meta_filepath: '/sd/a.json' }) },
      config,
    );
    expect(targets.map((t) => t.url)).to.deep.equal(['http://127.0.0.1:9101/metrics?format=prometheus', 'http://host:80/metrics?format=prometheus']);
    expect(targets[0]!.labels).to.deep.equal(L({ env: 'prod', instance: '127.0.0.1:9101', job: 'node', source: 'a' }));
  });

  it('adds target labels to a series without clashes, dropping empty scraped values', () => {
    const target = L({ instance: 'h:1', job: 'node' });
    expect(scrapedSeriesLabels(L({ __name__: 'm', z: '1', instance: '', e: '' }), target, false, [])).to.deep.equal(
      L({ __name__: 'm', instance: 'h:1', job: 'node', z: '1' }),
    );
    // honor_labels: a label the page names, even empty, is the page's (Prometheus checks presence).
    expect(scrapedSeriesLabels(L({ __name__: 'm', instance: '' }), target, true, [])).to.deep.equal(L({ __name__: 'm', job: 'node' }));
  });

  it('moves clashing scraped labels to exported_ unless honor_labels', () => {
    const target = L({ instance: 'h:1', job: 'node' });
    const scraped = L({ __name__: 'm', job: 'app', exported_job: 'taken', instance: '' });
    expect(scrapedSeriesLabels(scraped, target, false, [])).to.deep.equal(
      L({ __name__: 'm', job: 'node', instance: 'h:1', exported_job: 'taken', exported_exported_job: 'app' }),
    );
    expect(scrapedSeriesLabels(scraped, target, true, [])).to.deep.equal(L({ __name__: 'm', job: 'app', exported_job: 'taken' }));
    expect(scrapedSeriesLabels(L({ __name__: 'm', job: 'app' }), target, true, [])).to.deep.equal(
      L({ __name__: 'm', job: 'app', instance: 'h:1' }),
    );
  });
});

describe('agent scrape loop: samples, synthetic series, staleness', () => {
  const target: Target = { labels: L({ instance: 'h:1', job: 'node' }), url: 'http://h:1/metrics', key: 'k' };

  it('adds target labels, timestamps at the scrape start and writes the synthetic series', () => {
    const { loop, batches } = loopFor(scrapeConfig(), target);
    const outcome = loop.appendScrape(10_000, 'a{x="1"} 1\nb 2 5000\n', 'prometheus', undefined, 0.25);
    expect(outcome).to.include({ up: true, scraped: 2, postRelabel: 2, staleMarkers: 0 });
    const got = rows(batches[0]!);
    expect(got.slice(0, 2)).to.deep.equal([
      { series: 'a{instance="h:1", job="node", x="1"}', t: 10_000, v: 1, stale: false },
      { series: 'b{instance="h:1", job="node"}', t: 5000, v: 2, stale: false },
    ]);
    const report = Object.fromEntries(got.slice(2).map((r) => [r.series.replace(/\{.*/, ''), r.v]));
    expect(report).to.deep.equal({
      up: 1,
      scrape_duration_seconds: 0.25,
      scrape_samples_scraped: 2,
      scrape_samples_post_metric_relabeling: 2,
      scrape_series_added: 1, // only series without explicit timestamps are tracked
    });
    expect(got.slice(2).every((r) => r.t === 10_000 && r.series.includes('job="node"'))).to.equal(true);
  });

  it('marks a series that disappears stale at the next scrape, once', () => {
    const { loop, batches } = loopFor(scrapeConfig(), target);
    loop.appendScrape(1000, 'a 1\nb 2\n', 'prometheus', undefined, 0);
    const second = loop.appendScrape(2000, 'a 1\n', 'prometheus', undefined, 0);
    expect(second.staleMarkers).to.equal(1);
    const stale = rows(batches[1]!).filter((r) => r.stale);
    expect(stale).to.deep.equal([{ series: 'b{instance="h:1", job="node"}', t: 2000, v: NaN, stale: true }]);
    loop.appendScrape(3000, 'a 1\n', 'prometheus', undefined, 0);
    expect(rows(batches[2]!).filter((r) => r.stale)).to.deep.equal([]);
  });

  it('a failed scrape writes up 0 and marks every series of the last scrape stale', () => {
    const { loop, batches } = loopFor(scrapeConfig(), target);
    loop.appendScrape(1000, 'a 1\nb 2\n', 'prometheus', undefined, 0);
    const failed = loop.appendScrape(2000, '', 'prometheus', 'connection refused', 0.001);
    expect(failed).to.include({ up: false, staleMarkers: 2 });
    const got = rows(batches[1]!);
    expect(got.filter((r) => r.stale).map((r) => r.series)).to.deep.equal([
      'a{instance="h:1", job="node"}',
      'b{instance="h:1", job="node"}',
    ]);
    expect(got.find((r) => r.series.startsWith('up{'))?.v).to.equal(0);
    // Back again: no further markers, the series return as new.
    const back = loop.appendScrape(3000, 'a 1\n', 'prometheus', undefined, 0);
    expect(back).to.include({ up: true, staleMarkers: 0 });
  });

  it('an unparsable body counts as a failed scrape', () => {
    const { loop, batches } = loopFor(scrapeConfig(), target);
    loop.appendScrape(1000, 'a 1\n', 'prometheus', undefined, 0);
    const bad = loop.appendScrape(2000, 'this is { not metrics\n', 'prometheus', undefined, 0);
    expect(bad.up).to.equal(false);
    expect(bad.error).to.match(/line 1/);
    const got = rows(batches[1]!);
    expect(got.filter((r) => !r.series.includes('scrape_') && !r.series.startsWith('up{'))).to.deep.equal([
      { series: 'a{instance="h:1", job="node"}', t: 2000, v: NaN, stale: true },
    ]);
  });

  it('a target that goes away gets stale markers for its series and its synthetic series', () => {
    const { loop, batches } = loopFor(scrapeConfig(), target);
    loop.appendScrape(1000, 'a 1\n', 'prometheus', undefined, 0);
    loop.writeEndOfRunStaleness(2000);
    const got = rows(batches[1]!);
    expect(got.every((r) => r.stale && r.t === 2000)).to.equal(true);
    expect(got.map((r) => r.series.replace(/\{.*/, ''))).to.deep.equal([
      'a', 'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added',
    ]);
  });

  it('metric_relabel_configs drop and rewrite samples before staleness tracking', () => {
    const config = scrapeConfig(
      [
        '    metric_relabel_configs:',
        '      - {source_labels: [__name__], regex: "go_.*", action: drop}',
        '      - {source_labels: [x], target_label: y}',
        '      - {regex: x, action: labeldrop}',
        '',
      ].join('\n'),
    );
    const { loop, batches } = loopFor(config, target);
    const outcome = loop.appendScrape(1000, 'go_goroutines 5\na{x="1"} 1\n', 'prometheus', undefined, 0);
    expect(outcome).to.include({ scraped: 2, postRelabel: 1 });
    expect(rows(batches[0]!)[0]!.series).to.equal('a{instance="h:1", job="node", y="1"}');
  });

  it('a text NaN is never taken for a staleness marker', () => {
    const { loop, batches } = loopFor(scrapeConfig(), target);
    loop.appendScrape(1000, 'a NaN\n', 'prometheus', undefined, 0);
    const first = rows(batches[0]!)[0]!;
    expect(Number.isNaN(first.v)).to.equal(true);
    expect(first.stale).to.equal(false);
  });
});
