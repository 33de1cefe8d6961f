import type { Labels } from '../model/labels.js';
import { compareLabels } from '../model/labels.js';

/**
 * Sorting label sets by compareLabels order through one string per set, compared natively. Each
 * label adds `name NUL value NUL`: names never hold NUL, so when no value does either, string
 * order is compareLabels order (a shorter name or value sorts first through its NUL, and a set
 * that is a prefix of another sorts first). Sets with a NUL in a value get no key.
 */
const keys = new WeakMap<Labels, string | null>();

function sortKeyOf(labels: Labels): string | null {
  let key = keys.get(labels);
  if (key !== undefined) return key;
  const parts: string[] = [];
  key = '';
  for (const l of labels) {
    if (l.value.includes('\u0000')) {
      key = null;
      break;
    }
    parts.push(l.name, l.value);
  }
  if (key !== null) key = `${parts.join('\u0000')}\u0000`;
  keys.set(labels, key);
  return key;
}

/** Sorts items by their label sets in compareLabels order (in place; returns `items`). */
export function sortByLabels<T extends { readonly labels: Labels }>(items: T[]): T[] {
  if (items.length < 2) return items;
  const sortKeys: string[] = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) {
    const k = sortKeyOf(items[i]!.labels);
    if (k === null) return items.sort((a, b) => compareLabels(a.labels, b.labels));
    sortKeys[i] = k;
  }
  const order = Array.from({ length: items.length }, (_, i) => i);
  order.sort((i, j) => {
    const a = sortKeys[i]!;
    const b = sortKeys[j]!;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const sorted = order.map((i) => items[i]!);
  for (let i = 0; i < sorted.length; i++) items[i] = sorted[i]!;
  return items;
}
