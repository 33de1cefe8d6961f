import { MetricstorError } from '../../errors.js';
import { equalBytes, prefixEnd } from '../../kv/bytes.js';
import type { KvStore } from '../../kv/kv.js';
import { leaseKey, leaseNameFromKey, leasePrefix } from './keys.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

/**
 * What is stored under an `L` key. `epoch` grows by one every time the lease changes hands, so it
 * can serve as a fencing token; `expiresAtMs` is the holder's clock plus the TTL at its last renewal.
 */
export interface LeaseRecord {
  readonly holder: string;
  readonly epoch: number;
  readonly expiresAtMs: number;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal. Must exceed the clock skew between nodes. */
  readonly ttlMs: number;
  readonly clock?: Clock;
}

/** JSON keeps the record readable with any KV tool; the value is tiny and rarely written. */
export function encodeLeaseRecord(r: LeaseRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ holder: r.holder, epoch: r.epoch, expiresAtMs: r.expiresAtMs }));
}

/** Null when the bytes are not a lease record (such a record is treated as expired). */
export function decodeLeaseRecord(bytes: Uint8Array): LeaseRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const holder: unknown = Reflect.get(parsed, 'holder');
  const epoch: unknown = Reflect.get(parsed, 'epoch');
  const expiresAtMs: unknown = Reflect.get(parsed, 'expiresAtMs');
  if (typeof holder !== 'string' || typeof epoch !== 'number' || typeof expiresAtMs !== 'number') return null;
  if (!Number.isSafeInteger(epoch) || !Number.isFinite(expiresAtMs)) return null;
  return { holder, epoch, expiresAtMs };
}

/**
 * A named, time-limited lease shared through the KV, for work that only one node may do at a
 * time (retention, compaction, replaying the write-ahead records of a writer that stopped).
 *
 * Every change is one compareAndSwap against the exact bytes last seen, so two nodes can never
 * both believe they took it. A holder must call `renew` well within the TTL (every TTL/3 is a good
 * rhythm); a holder that stops renewing loses the lease once the TTL passes, and any other node
 * may then `acquire` it. `isHeld` answers from the local clock without a KV round trip; long jobs
 * check it between pages of work and stop when it turns false.
 */
export class Lease {
  readonly name: string;
  readonly holder: string;
  private readonly kv: KvStore;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  /** The bytes we last wrote and saw committed; null when we do not hold the lease. */
  private written: Uint8Array | null = null;
  private heldEpoch = 0;
  private heldUntilMs = Number.NEGATIVE_INFINITY;

  constructor(kv: KvStore, name: string, holder: string, options: LeaseOptions) {
    if (name === '') throw new MetricstorError('internal', 'a lease needs a name');
    if (holder === '') throw new MetricstorError('internal', 'a lease holder needs an id');
    if (!(options.ttlMs > 0)) throw new MetricstorError('internal', `lease TTL must be positive, got ${options.ttlMs}`);
    this.kv = kv;
    this.name = name;
    this.holder = holder;
    this.ttlMs = options.ttlMs;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Takes the lease if it is free, expired, or already ours (then it is renewed). Resolves to
   * whether we hold it afterwards. Losing a race to another node resolves false, never throws.
   */
  async acquire(): Promise<boolean> {
    if (this.written !== null && (await this.renew())) return true;
    const key = leaseKey(this.name);
    const current = await this.kv.get(key);
    const nowMs = this.clock.nowMs();
    let epoch = 1;
    if (current !== null) {
      const record = decodeLeaseRecord(current);
      if (record !== null) {
        const ours = record.holder === this.holder;
        if (!ours && record.expiresAtMs > nowMs) return this.forget();
        epoch = ours ? record.epoch : record.epoch + 1;
      }
    }
    return this.write(key, current, epoch, nowMs);
  }

  /** Extends a lease we hold by another TTL. Resolves false (and forgets it) when it was lost. */
  async renew(): Promise<boolean> {
    if (this.written === null) return false;
    const key = leaseKey(this.name);
    const nowMs = this.clock.nowMs();
    if (await this.write(key, this.written, this.heldEpoch, nowMs)) return true;
    // The CAS can fail although the record is still ours, e.g. after an earlier write whose
    // reply was lost; recognise our own record by holder and epoch and retry against it once.
    const current = await this.kv.get(key);
    const record = current === null ? null : decodeLeaseRecord(current);
    if (record === null || record.holder !== this.holder || record.epoch !== this.heldEpoch) return this.forget();
    return this.write(key, current, this.heldEpoch, nowMs);
  }

  /** Gives the lease up so another node can take it at once. Does nothing when not ours. */
  async release(): Promise<void> {
    const written = this.written;
    this.forget();
    if (written === null) return;
    const key = leaseKey(this.name);
    if (await this.kv.compareAndSwap(key, written, null)) return;
    const current = await this.kv.get(key);
    const record = current === null ? null : decodeLeaseRecord(current);
    if (record !== null && record.holder === this.holder) await this.kv.compareAndSwap(key, current, null);
  }

  /** True while our last successful acquire or renew has not expired by the local clock. */
  isHeld(): boolean {
    return this.written !== null && this.clock.nowMs() < this.heldUntilMs;
  }

  /** The epoch of the lease while held (a fencing token); 0 when not held. */
  epoch(): number {
    return this.isHeld() ? this.heldEpoch : 0;
  }

  private async write(key: Uint8Array, expected: Uint8Array | null, epoch: number, nowMs: number): Promise<boolean> {
    const record: LeaseRecord = { holder: this.holder, epoch, expiresAtMs: nowMs + this.ttlMs };
    const bytes = encodeLeaseRecord(record);
    if (!(await this.kv.compareAndSwap(key, expected, bytes))) return this.forget();
    this.written = bytes;
    this.heldEpoch = epoch;
    this.heldUntilMs = record.expiresAtMs;
    return true;
  }

  private forget(): false {
    this.written = null;
    this.heldEpoch = 0;
    this.heldUntilMs = Number.NEGATIVE_INFINITY;
    return false;
  }
}

/** The current record of a lease, or null when nobody holds it (or it is unreadable). */
export async function readLease(kv: KvStore, name: string): Promise<LeaseRecord | null> {
  const bytes = await kv.get(leaseKey(name));
  return bytes === null ? null : decodeLeaseRecord(bytes);
}

export interface LeaseEntry {
  readonly name: string;
  /** Null when the stored value is unreadable; such a lease counts as expired. */
  readonly record: LeaseRecord | null;
}

/**
 * Every lease whose name starts with `namePrefix`, in name order, read in pages of `pageSize`.
 * A node looking for writers that stopped lists their leases and acquires the expired ones.
 */
export async function listLeases(kv: KvStore, namePrefix: string, pageSize = 1000): Promise<LeaseEntry[]> {
  const prefix = leasePrefix(namePrefix);
  const end = prefixEnd(prefix);
  const out: LeaseEntry[] = [];
  let start: Uint8Array | undefined = prefix;
  while (start !== undefined) {
    const page = await kv.scan({ start, end, limit: pageSize });
    for (const e of page.entries) out.push({ name: leaseNameFromKey(e.key), record: decodeLeaseRecord(e.value) });
    if (page.next !== undefined && start !== undefined && equalBytes(page.next, start)) break;
    start = page.next;
  }
  return out;
}

/** True when a lease record has expired (or is unreadable) at `nowMs`. */
export function leaseExpired(record: LeaseRecord | null, nowMs: number): boolean {
  return record === null || record.expiresAtMs <= nowMs;
}
