/** A label set is a list of (name, value) pairs sorted by name, names unique, values non-empty. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

export type Labels = readonly Label[];

export const METRIC_NAME = '__name__';

/** Sorts a label list by name in place order-independently and returns a new sorted array. */
export function sortLabels(labels: readonly Label[]): Label[] {
  return [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function getLabel(labels: Labels, name: string): string | undefined {
  for (const l of labels) if (l.name === name) return l.value;
  return undefined;
}

export function metricName(labels: Labels): string | undefined {
  return getLabel(labels, METRIC_NAME);
}

/** Compares two sorted label sets the way Prometheus's labels.Compare does. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  return compareLabels(a, b) === 0;
}

/** `{__name__="up", job="x"}` rendered as Prometheus prints it: `up{job="x"}`. */
export function formatLabels(labels: Labels): string {
  const name = metricName(labels);
  const rest = labels
    .filter((l) => l.name !== METRIC_NAME)
    .map((l) => `${l.name}=${JSON.stringify(l.value)}`);
  if (name !== undefined && rest.length === 0) return name;
  return `${name ?? ''}{${rest.join(', ')}}`;
}

/**
 * formatLabels for error messages about untrusted input: a series may carry millions of labels or
 * megabyte values, and echoing them whole would make the answer as big as the attack.
 */
export function formatLabelsBrief(labels: Labels, maxChars = 512): string {
  const shown = labels.length > 32 ? [...labels.filter((l) => l.name === METRIC_NAME), ...labels.slice(0, 32)] : labels;
  const clipped = shown.map((l) => (l.value.length > maxChars ? { name: l.name.slice(0, maxChars), value: `${l.value.slice(0, maxChars)}…` } : l));
  const text = formatLabels(clipped);
  const more = labels.length > shown.length ? ` (${labels.length} labels)` : '';
  return (text.length > maxChars ? `${text.slice(0, maxChars)}…` : text) + more;
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}
