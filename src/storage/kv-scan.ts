import { MetricstorError } from '../errors.js';
import { compareBytes } from '../kv/bytes.js';
import type { KvEntry, KvRange, KvStore } from '../kv/kv.js';

export const SCAN_PAGE = 1000;

/** Visits every entry with start <= key < end in key order, page by page. */
export async function scanEach(
  kv: KvStore,
  start: Uint8Array,
  end: Uint8Array,
  visit: (e: KvEntry) => void,
  pageSize = SCAN_PAGE,
): Promise<void> {
  let from: Uint8Array | undefined = start;
  for (let pages = 0; from !== undefined; pages++) {
    const page = await kv.scan({ start: from, end, limit: pageSize });
    for (const e of page.entries) visit(e);
    const next: Uint8Array | undefined = page.next;
    if (next !== undefined && compareBytes(next, from) <= 0) {
      throw new MetricstorError('internal', 'KV scan did not advance');
    }
    from = next;
  }
}

/** The first entry with start <= key < end, or null. */
export async function firstEntry(kv: KvStore, start: Uint8Array, end: Uint8Array): Promise<KvEntry | null> {
  const page = await kv.scan({ start, end, limit: 1 });
  return page.entries[0] ?? null;
}

/** Every entry of each range [start, end), per range in key order; the ranges are read together, page by page. */
export async function entriesInRanges(kv: KvStore, ranges: readonly KvRange[], pageSize = SCAN_PAGE): Promise<KvEntry[][]> {
  const out: KvEntry[][] = ranges.map(() => []);
  let pending: { at: number; range: KvRange }[] = ranges.map((r, at) => ({ at, range: { start: r.start, end: r.end, limit: pageSize } }));
  while (pending.length > 0) {
    const pages = await kv.scanMany(pending.map((p) => p.range));
    const more: { at: number; range: KvRange }[] = [];
    pages.forEach((page, i) => {
      const { at, range } = pending[i]!;
      for (const e of page.entries) out[at]!.push(e);
      if (page.next === undefined) return;
      if (compareBytes(page.next, range.start) <= 0) throw new MetricstorError('internal', 'KV scan did not advance');
      more.push({ at, range: { start: page.next, end: range.end, limit: pageSize } });
    });
    pending = more;
  }
  return out;
}
