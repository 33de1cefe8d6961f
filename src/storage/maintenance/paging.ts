import { MetricstorError } from '../../errors.js';
import { compareBytes } from '../../kv/bytes.js';
import type { KvEntry, KvOp, KvRange, KvStore } from '../../kv/kv.js';

export const DEFAULT_PAGE_SIZE = 1000;

/**
 * Yields the entries of a range one page at a time, so a caller can act on each page (and stop)
 * before the next is read. Entries the caller deletes meanwhile do not disturb the walk, which
 * always resumes after the last key seen.
 */
export async function* scanPages(kv: KvStore, range: KvRange): AsyncGenerator<KvEntry[]> {
  let start = range.start;
  for (;;) {
    const page = await kv.scan({ start, end: range.end, limit: range.limit ?? DEFAULT_PAGE_SIZE });
    if (page.entries.length > 0) yield page.entries;
    if (page.next === undefined) return;
    if (compareBytes(page.next, start) <= 0) {
      throw new MetricstorError('internal', 'KV scan did not advance; refusing to loop');
    }
    start = page.next;
  }
}

/** The first key in [start, end), or null. */
export async function firstKey(kv: KvStore, start: Uint8Array, end: Uint8Array): Promise<Uint8Array | null> {
  const page = await kv.scan({ start, end, limit: 1 });
  return page.entries[0]?.key ?? null;
}

/** Collects KV operations and commits them in batches of at most `maxOps`. */
export class OpBatcher {
  private ops: KvOp[] = [];
  committedOps = 0;

  constructor(
    private readonly kv: KvStore,
    private readonly maxOps: number = DEFAULT_PAGE_SIZE,
  ) {}

  get pending(): number {
    return this.ops.length;
  }

  async add(op: KvOp): Promise<void> {
    this.ops.push(op);
    if (this.ops.length >= this.maxOps) await this.flush();
  }

  async del(key: Uint8Array): Promise<void> {
    await this.add({ type: 'del', key });
  }

  /** Adds operations that must commit together; they are never split across batches. */
  async addTogether(ops: readonly KvOp[]): Promise<void> {
    this.ops.push(...ops);
    if (this.ops.length >= this.maxOps) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.ops.length === 0) return;
    const ops = this.ops;
    this.ops = [];
    await this.kv.batch(ops);
    this.committedOps += ops.length;
  }
}

/** Runs `work` on every item with at most `limit` in flight, keeping results in input order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
