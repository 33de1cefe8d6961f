import { MetricstorError } from '../errors.js';
import { compareBytes } from '../kv/bytes.js';
import type { KvEntry, KvStore } from '../kv/kv.js';

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
