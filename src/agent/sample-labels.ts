/**
 * The target's labels on scraped and synthetic series, as Prometheus 2.42 attaches them
 * (mutateSampleLabels / mutateReportSampleLabels).
 */
import { sortLabels, type Label, type Labels } from '../model/labels.js';
import { relabel, type CompiledRelabelRule } from './relabel.js';

const EXPORTED_PREFIX = 'exported_';

/**
 * Adds the target labels to a scraped series, then applies metric_relabel_configs. With
 * honorLabels the series' own values win; otherwise the target's win and a clashing scraped
 * value moves to `exported_<name>` (more prefixes until the name is free). Undefined = dropped.
 */
export function scrapedSeriesLabels(
  scraped: Labels,
  target: Labels,
  honorLabels: boolean,
  rules: readonly CompiledRelabelRule[],
): Label[] | undefined {
  if (!clashes(scraped, target, honorLabels)) {
    // The usual case, without a map: the page has none of the target's label names.
    const out: Label[] = [];
    for (const l of scraped) if (l.value !== '' && !target.some((t) => t.name === l.name)) out.push(l);
    for (const t of target) out.push(t);
    const sorted = sortLabels(out);
    return rules.length === 0 ? sorted : relabel(sorted, rules);
  }
  const set = new Map<string, string>();
  for (const l of scraped) set.set(l.name, l.value);
  if (honorLabels) {
    // As in Prometheus, a label the page names keeps the page's value even when that is empty.
    for (const l of target) if (!set.has(l.name)) set.set(l.name, l.value);
  } else {
    const conflicts: Label[] = [];
    for (const l of target) {
      const exposed = set.get(l.name) ?? '';
      if (exposed !== '') conflicts.push({ name: l.name, value: exposed });
      set.set(l.name, l.value);
    }
    if (conflicts.length > 0) resolveConflicts(set, scraped, target, conflicts);
  }
  const labels: Label[] = [];
  for (const [name, value] of set) if (value !== '') labels.push({ name, value });
  if (rules.length === 0) return sortLabels(labels);
  return relabel(labels, rules);
}

/** Whether the page has one of the target's label names (non-empty, unless honorLabels). */
function clashes(scraped: Labels, target: Labels, honorLabels: boolean): boolean {
  for (const t of target) for (const l of scraped) if (l.name === t.name && (honorLabels || l.value !== '')) return true;
  return false;
}

function resolveConflicts(set: Map<string, string>, scraped: Labels, target: Labels, conflicts: Label[]): void {
  const has = (labels: Labels, name: string): boolean => labels.some((l) => l.name === name);
  // Shorter names are renamed first, as Prometheus does, so the outcome is deterministic.
  const ordered = conflicts.map((c, i) => ({ c, i })).sort((a, b) => a.c.name.length - b.c.name.length || a.i - b.i);
  const renamed: Label[] = [];
  for (const { c } of ordered) {
    let name = c.name;
    for (let tries = 0; tries < 100; tries++) {
      name = EXPORTED_PREFIX + name;
      if (!has(scraped, name) && !has(target, name) && !has(renamed, name)) break;
    }
    renamed.push({ name, value: c.value });
  }
  for (const l of renamed) set.set(l.name, l.value);
}

/** A synthetic series (up, scrape_duration_seconds, ...) with the target's labels. */
export function reportSeriesLabels(metric: string, target: Labels): Label[] {
  return sortLabels([{ name: '__name__', value: metric }, ...target.filter((l) => l.name !== '__name__')]);
}
