import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open, type RootDatabase } from 'lmdb';

export type NamespaceMode = 'strong' | 'eventual';

export interface StoredEntry {
  readonly key: Buffer;
  readonly value: Buffer;
  /** 0 in eventual namespaces. */
  readonly version: number;
}

export interface StoredPage {
  readonly entries: StoredEntry[];
  readonly nextKey?: Buffer;
}

const VERSION_BYTES = 8;
const MAX_NAMESPACE_BYTES = 255;

/**
 * The dev server's storage: one LMDB environment holding every namespace. A stored key is
 * [namespace length: 1 byte][namespace][key], so each namespace is one contiguous key range.
 * Values in strong namespaces are prefixed with their version (8 bytes, big-endian); versions
 * start at 1 and grow by one per write. Writes resolve once LMDB has committed them (and flushed
 * them to disk unless sync is off).
 */
export class DevStore {
  private constructor(
    private readonly db: RootDatabase<Buffer, Buffer>,
    private readonly removeDir: string | undefined,
  ) {}

  /**
   * Opens the store in `dir`, or in a fresh temporary directory (removed on close) without one.
   * With `sync` false, writes are not flushed to disk before they are acknowledged (for tests).
   */
  static async open(dir: string | undefined, sync = true): Promise<DevStore> {
    const where = dir ?? (await mkdtemp(path.join(tmpdir(), 'flaredb-dev-')));
    const db = open<Buffer, Buffer>({
      path: where,
      keyEncoding: 'binary',
      encoding: 'binary',
      compression: false,
      cache: false,
      noSync: !sync,
    });
    return new DevStore(db, dir === undefined ? where : undefined);
  }

  get(namespace: string, mode: NamespaceMode, key: Buffer): StoredEntry | null {
    const raw = this.db.get(storedKey(namespace, key));
    return raw === undefined ? null : decode(key, raw, mode);
  }

  async rawPut(namespace: string, key: Buffer, value: Buffer): Promise<void> {
    await this.db.put(storedKey(namespace, key), Buffer.from(value));
  }

  async rawDelete(namespace: string, key: Buffer): Promise<boolean> {
    const k = storedKey(namespace, key);
    const existed = await this.db.transaction(() => {
      const had = this.db.get(k) !== undefined;
      if (had) void this.db.remove(k);
      return had;
    });
    await this.db.flushed;
    return existed;
  }

  /** Writes if the current version is `expected` (0 = absent); answers the versions before and after. */
  async compareAndSwap(
    namespace: string,
    key: Buffer,
    value: Buffer,
    expected: number,
  ): Promise<{ success: boolean; currentVersion: number; newVersion: number }> {
    const k = storedKey(namespace, key);
    const result = await this.db.transaction(() => {
      const raw = this.db.get(k);
      const current = raw === undefined ? 0 : versionOf(raw);
      if (current !== expected) return { success: false, currentVersion: current, newVersion: 0 };
      const next = current + 1;
      void this.db.put(k, withVersion(next, value));
      return { success: true, currentVersion: current, newVersion: next };
    });
    await this.db.flushed;
    return result;
  }

  /** Deletes the key if `expected` is 0 or its version; answers whether it existed and its version. */
  async versionedDelete(
    namespace: string,
    key: Buffer,
    expected: number,
  ): Promise<{ success: boolean; existed: boolean; currentVersion: number }> {
    const k = storedKey(namespace, key);
    const result = await this.db.transaction(() => {
      const raw = this.db.get(k);
      const current = raw === undefined ? 0 : versionOf(raw);
      const existed = raw !== undefined;
      if (expected !== 0 && current !== expected) return { success: false, existed, currentVersion: current };
      if (existed) void this.db.remove(k);
      return { success: true, existed, currentVersion: current };
    });
    await this.db.flushed;
    return result;
  }

  /**
   * Entries with start <= key < end (empty end: to the namespace's end), at most `limit`, and
   * fewer when their keys and values pass `maxPageBytes` (the first entry always fits).
   */
  scan(namespace: string, mode: NamespaceMode, start: Buffer, end: Buffer, limit: number, maxPageBytes: number): StoredPage {
    if (end.length > 0 && Buffer.compare(start, end) >= 0) return { entries: [] };
    const prefix = namespacePrefix(namespace);
    const rangeEnd = end.length === 0 ? prefixEnd(prefix) : Buffer.concat([prefix, end]);
    const rows = this.db.getRange({
      start: Buffer.concat([prefix, start]),
      ...(rangeEnd === undefined ? {} : { end: rangeEnd }),
      limit: limit + 1,
    });
    const entries: StoredEntry[] = [];
    let pageBytes = 0;
    for (const row of rows) {
      const key = Buffer.from(row.key.subarray(prefix.length));
      pageBytes += key.length + row.value.length;
      if (entries.length === limit || (entries.length > 0 && pageBytes > maxPageBytes)) return { entries, nextKey: key };
      entries.push(decode(key, row.value, mode));
    }
    return { entries };
  }

  async close(): Promise<void> {
    await this.db.close();
    if (this.removeDir !== undefined) await rm(this.removeDir, { recursive: true, force: true });
  }
}

export function namespaceIsValid(namespace: string): boolean {
  return Buffer.byteLength(namespace) <= MAX_NAMESPACE_BYTES;
}

function namespacePrefix(namespace: string): Buffer {
  const name = Buffer.from(namespace);
  return Buffer.concat([Buffer.of(name.length), name]);
}

function storedKey(namespace: string, key: Buffer): Buffer {
  return Buffer.concat([namespacePrefix(namespace), key]);
}

/** The least key greater than every key starting with `prefix`, or undefined when there is none. */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

function withVersion(version: number, value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(VERSION_BYTES + value.length);
  out.writeBigUInt64BE(BigInt(version), 0);
  value.copy(out, VERSION_BYTES);
  return out;
}

function versionOf(raw: Buffer): number {
  return Number(raw.readBigUInt64BE(0));
}

function decode(key: Buffer, raw: Buffer, mode: NamespaceMode): StoredEntry {
  if (mode === 'eventual') return { key, value: Buffer.from(raw), version: 0 };
  return { key, value: Buffer.from(raw.subarray(VERSION_BYTES)), version: versionOf(raw) };
}
