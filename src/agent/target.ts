/**
 * Targets from discovered label sets, as Prometheus 2.42's PopulateLabels builds them: job,
 * scrape settings and params as `__` labels, relabel_configs, a default port by scheme, meta
 * labels removed, instance defaulted to the address.
 */
import { formatDurationMs } from '../config/duration.js';
import { sortLabels, type Label, type Labels } from '../model/labels.js';
import type { ScrapeConfig } from './config.js';
import { relabel } from './relabel.js';

export interface Target {
  /** The labels every scraped series gets: the relabelled set without `__` names. */
  readonly labels: readonly Label[];
  readonly url: string;
  /** Identity of the target within its job (labels plus URL). */
  readonly key: string;
}

/** A discovered group: addresses with shared labels (static_configs entry or file_sd group). */
export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: readonly Label[];
  /** Labels of the source, such as __meta_filepath. */
  readonly sourceLabels?: readonly Label[];
}

/** The targets a group yields under a scrape config; targets dropped by relabelling are left out. */
export function targetsFromGroup(group: TargetGroup, config: ScrapeConfig): Target[] {
  const out: Target[] = [];
  for (const address of group.targets) {
    const set = new Map<string, string>();
    for (const l of group.sourceLabels ?? []) set.set(l.name, l.value);
    for (const l of group.labels) set.set(l.name, l.value);
    set.set('__address__', address);
    const t = populateTarget(set, config);
    if (t !== undefined) out.push(t);
  }
  return out;
}

function populateTarget(set: Map<string, string>, config: ScrapeConfig): Target | undefined {
  const defaults: [string, string][] = [
    ['job', config.jobName],
    ['__scrape_interval__', formatDurationMs(config.scrapeIntervalMs)],
    ['__scrape_timeout__', formatDurationMs(config.scrapeTimeoutMs)],
    ['__metrics_path__', config.metricsPath],
    ['__scheme__', config.scheme],
  ];
  for (const [name, value] of defaults) if ((set.get(name) ?? '') === '') set.set(name, value);
  for (const [name, values] of Object.entries(config.params)) if (values.length > 0) set.set(`__param_${name}`, values[0]!);
  const labels = relabel(toLabels(set), config.relabelConfigs);
  if (labels === undefined) return undefined;
  const get = (name: string): string => labels.find((l) => l.name === name)?.value ?? '';
  let address = get('__address__');
  if (address === '') return undefined;
  const scheme = get('__scheme__') || config.scheme;
  if (!/:\d+$/.test(address) && !address.endsWith(']') && !address.includes('/')) {
    address = `${address}:${scheme === 'https' ? 443 : 80}`;
  }
  const params = new URLSearchParams();
  for (const [name, values] of Object.entries(config.params)) for (const v of values) params.append(name, v);
  for (const l of labels) if (l.name.startsWith('__param_')) params.set(l.name.slice('__param_'.length), l.value);
  const query = params.toString();
  const url = `${scheme}://${address}${get('__metrics_path__')}${query === '' ? '' : `?${query}`}`;
  const kept = labels.filter((l) => !l.name.startsWith('__'));
  if (!kept.some((l) => l.name === 'instance')) kept.push({ name: 'instance', value: address });
  const targetLabels = sortLabels(kept);
  return { labels: targetLabels, url, key: `${url} ${formatPairs(targetLabels)}` };
}

function toLabels(set: Map<string, string>): Label[] {
  return [...set].filter(([, v]) => v !== '').map(([name, value]) => ({ name, value }));
}

function formatPairs(labels: Labels): string {
  return labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(',');
}
