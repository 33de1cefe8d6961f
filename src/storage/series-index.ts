import { LRUCache } from 'lru-cache';
import { MetricstorError, badData } from '../errors.js';
import { prefixEnd } from '../kv/bytes.js';
import type { KvEntry, KvOp, KvRange, KvStore } from '../kv/kv.js';
import type { Labels } from '../model/labels.js';
import type { CompiledMatcher, Matcher } from '../model/matchers.js';
import { compileMatcher, matchesAll } from '../model/matchers.js';
import type { SeriesHead } from './head.js';
import {
  dayOfMs,
  decodeLabelNameKey,
  decodePostingKey,
  decodeLabelValueKey,
  labelNameKey,
  labelNamesPrefix,
  labelValueKey,
  labelValuesPrefix,
  MAX_INDEX_KEY_BYTES,
  postingKey,
  postingKeySize,
  postingKeySid,
  postingsDayPrefix,
  postingsPrefix,
  seriesKey,
} from './keys.js';
import type { Hash64, LabelsHasher } from './labels-codec.js';
import { decodeLabels, encodeLabels, hashLabels, hashToSid, nextSid, sameLabels } from './labels-codec.js';
import type { Postings } from './postings.js';
import { EMPTY_POSTINGS, intersect, union, unionAll } from './postings.js';
import { entriesInRanges, firstEntry, scanEach } from './kv-scan.js';
import { sortByLabels } from './labels-order.js';
import { SelectionCache } from './selection-cache.js';
import type { SeriesRef } from './types.js';

/**
 * An LRU limited by entry count that, unlike `max`, does not preallocate storage for every slot
 * (a million-entry `max` costs hundreds of milliseconds and tens of MB at construction).
 */
function countLimitedLru<K extends {}, V extends {}>(maxEntries: number): LRUCache<K, V> {
  return new LRUCache<K, V>({ maxSize: maxEntries, sizeCalculation: () => 1 });
}

/** 53 bits of a series hash: a number key is far cheaper in a Map than a bigint or string. */
function cacheKeyOf(h: Hash64): number {
  return h.hi * 0x20_0000 + (h.lo >>> 11);
}

/** One series as the write path knows it. */
export class SeriesEntry {
  /** The newest day whose index keys are committed; NaN before the first. */
  lastIndexedDay = Number.NaN;
  /** Older days whose index keys are committed (rare: old samples). */
  olderIndexedDays: Set<number> | null = null;
  /** This node's open chunks of the series, linked on first append. */
  head: SeriesHead | null = null;
  /** Set once the entry left the write-path cache; lookups by label-set identity then skip it. */
  dropped = false;

  constructor(
    readonly sid: bigint,
    readonly labels: Labels,
    /** The index that made it: a reference kept by a caller is trusted only by that index. */
    readonly owner: SeriesIndex,
  ) {}

  isIndexed(day: number): boolean {
    return day === this.lastIndexedDay || (this.olderIndexedDays !== null && this.olderIndexedDays.has(day));
  }

  markIndexed(day: number): void {
    if (this.isIndexed(day)) return;
    if (Number.isNaN(this.lastIndexedDay) || day > this.lastIndexedDay) {
      if (!Number.isNaN(this.lastIndexedDay)) (this.olderIndexedDays ??= new Set()).add(this.lastIndexedDay);
      this.lastIndexedDay = day;
    } else (this.olderIndexedDays ??= new Set()).add(day);
  }
}

/** (entry, day) pairs whose index keys are staged in a batch; marked once it commits. */
export type IndexMarks = { entry: SeriesEntry; day: number }[];

export interface SeriesIndexOptions {
  /** Series kept in the write-path cache. */
  readonly maxCachedSeries?: number;
  /** Replaces the series hash (tests force collisions with it). */
  readonly hasher?: LabelsHasher;
}

/** The most ids probed after hash collisions before giving up; 2^-60 odds of ever needing 2. */
const MAX_PROBES = 64;
const EMPTY = new Uint8Array(0);
/**
 * Postings read per equality matcher before choosing which lists to read whole; also the number
 * of candidates below which the labels are checked instead of reading more postings.
 */
const POSTINGS_FIRST_PAGE = 1000;

export interface SelectedSeries {
  readonly sid: bigint;
  readonly labels: Labels;
}

/**
 * The series index over the KV: resolves label sets to series ids on the write path (with a
 * cache, so a known series costs one hash and one map lookup), stages the per-day index keys, and
 * resolves matchers to series on the read path through per-day postings.
 */
export class SeriesIndex {
  private readonly kv: KvStore;
  private readonly hasher: LabelsHasher;
  /** Keyed by 53 bits of the label hash; a bucket holds every cached series with that key. */
  private readonly cache: LRUCache<number, SeriesEntry[]>;
  private readonly labelsBySid: LRUCache<bigint, Labels>;
  /**
   * The entry of a label-set object seen before. Ingest hands in the same Labels object for a
   * series it has cached (label cache keyed by the encoded bytes), so this finds it without
   * hashing the strings. Replaced wholesale by `forget`.
   */
  private byIdentity = new WeakMap<Labels, SeriesEntry>();
  /** Series this process created (claimed an `S` key for), for self-monitoring. */
  seriesCreated = 0;
  /** Recent selections, reused while the KV has not been written since. */
  private readonly selections = new SelectionCache();
  /** `V` and `N` keys committed recently, so a burst of new series does not repeat them. */
  private readonly recentValueKeys = countLimitedLru<string, true>(100_000);
  /**
   * `V` and `N` keys staged but not yet committed, with the commit generation that takes them:
   * a series staged for the same generation relies on them (they commit with its own keys, or its
   * keys do not commit either) instead of staging them again.
   */
  private readonly stagedValueKeys = new Map<string, number>();

  constructor(kv: KvStore, options: SeriesIndexOptions = {}) {
    this.kv = kv;
    this.hasher = options.hasher ?? hashLabels;
    this.cache = new LRUCache<number, SeriesEntry[]>({
      maxSize: options.maxCachedSeries ?? 1_000_000,
      sizeCalculation: () => 1,
      dispose: (bucket, _key, reason) => {
        if (reason === 'evict') for (const e of bucket) e.dropped = true;
      },
    });
    this.labelsBySid = countLimitedLru(options.maxCachedSeries ?? 1_000_000);
  }

  /** The series entry of every label set, creating `S` keys for new series. */
  async resolve(labelSets: readonly Labels[]): Promise<SeriesEntry[]> {
    return this.resolveSeries(labelSets, undefined);
  }

  /**
   * As resolve, for appends: a series whose ref (refs[i], parallel to labelSets) holds an entry
   * of this index still cached is taken from it without a lookup, and every ref is left holding
   * its series' entry.
   */
  async resolveAppends(labelSets: readonly Labels[], refs: readonly (SeriesRef | undefined)[] | undefined): Promise<SeriesEntry[]> {
    const entries = await this.resolveSeries(labelSets, refs);
    if (refs !== undefined) {
      for (let i = 0; i < labelSets.length; i++) {
        const ref = refs[i];
        if (ref !== undefined) ref.storage = entries[i];
      }
    }
    return entries;
  }

  private async resolveSeries(
    labelSets: readonly Labels[],
    refs: readonly (SeriesRef | undefined)[] | undefined,
  ): Promise<SeriesEntry[]> {
    const out: (SeriesEntry | undefined)[] = new Array(labelSets.length);
    let misses: number[] | null = null;
    for (let i = 0; i < labelSets.length; i++) {
      const labels = labelSets[i]!;
      const held = refs?.[i]?.storage;
      if (held instanceof SeriesEntry && held.owner === this && !held.dropped) {
        out[i] = held;
        continue;
      }
      const known = this.byIdentity.get(labels);
      if (known !== undefined && !known.dropped) {
        out[i] = known;
        continue;
      }
      const h = this.hasher(labels);
      const found = this.lookup(cacheKeyOf(h), labels);
      if (found !== undefined) {
        out[i] = found;
        this.byIdentity.set(labels, found);
      } else (misses ??= []).push(i);
    }
    if (misses !== null) await this.resolveMisses(labelSets, misses, out);
    return out as SeriesEntry[];
  }

  private lookup(cacheKey: number, labels: Labels): SeriesEntry | undefined {
    const bucket = this.cache.get(cacheKey);
    if (bucket === undefined) return undefined;
    for (const e of bucket) if (e.labels === labels || sameLabels(e.labels, labels)) return e;
    return undefined;
  }

  private async resolveMisses(
    labelSets: readonly Labels[],
    misses: readonly number[],
    out: (SeriesEntry | undefined)[],
  ): Promise<void> {
    interface Probe {
      readonly index: number;
      readonly labels: Labels;
      readonly cacheKey: number;
      sid: bigint;
      probes: number;
    }
    // Checked before anything is written: a key the KV refuses would fail every append batched with it.
    for (const index of misses) {
      for (const l of labelSets[index]!) {
        const sizeBytes = postingKeySize(l.name, l.value);
        if (sizeBytes > MAX_INDEX_KEY_BYTES) {
          throw badData(
            `label ${JSON.stringify(l.name)} is too long to index: ${sizeBytes} bytes of key, the limit is ${MAX_INDEX_KEY_BYTES}`,
          );
        }
      }
    }
    let pending: Probe[] = misses.map((index) => {
      const labels = labelSets[index]!;
      const h = this.hasher(labels);
      return { index, labels, cacheKey: cacheKeyOf(h), sid: hashToSid(h), probes: 0 };
    });
    const done = (p: Probe): void => {
      const existing = this.lookup(p.cacheKey, p.labels);
      if (existing !== undefined && existing.sid === p.sid) {
        out[p.index] = existing;
        return;
      }
      const entry = new SeriesEntry(p.sid, p.labels, this);
      const bucket = this.cache.get(p.cacheKey);
      this.cache.set(p.cacheKey, bucket === undefined ? [entry] : [...bucket, entry]);
      this.labelsBySid.set(p.sid, p.labels);
      this.byIdentity.set(p.labels, entry);
      out[p.index] = entry;
    };
    while (pending.length > 0) {
      const stored = await this.kv.getMany(pending.map((p) => seriesKey(p.sid)));
      const next: Probe[] = [];
      const toClaim: Probe[] = [];
      pending.forEach((p, i) => {
        const bytes = stored[i]!;
        if (bytes === null) toClaim.push(p);
        else if (sameLabels(decodeLabels(bytes), p.labels)) done(p);
        else {
          p.sid = nextSid(p.sid);
          if (++p.probes > MAX_PROBES) {
            throw new MetricstorError('internal', `no free series id after ${MAX_PROBES} collisions`);
          }
          next.push(p);
        }
      });
      const claimed = await Promise.all(
        toClaim.map((p) => this.kv.compareAndSwap(seriesKey(p.sid), null, encodeLabels(p.labels))),
      );
      toClaim.forEach((p, i) => {
        if (claimed[i]) {
          this.seriesCreated++;
          done(p);
        }
        else next.push(p); // someone created it meanwhile: read it again
      });
      pending = next;
    }
  }

  /**
   * Stages the index keys of `entry` for `day` and records them in `marks`, so the caller can
   * mark the day indexed once the batch commits. Callers skip days `entry.isIndexed` already.
   * `generation` names the commit that will take `ops` (Committer.generation): ops staged for one
   * generation commit in order, so a later one's keys never land without an earlier one's.
   */
  stageDay(entry: SeriesEntry, day: number, ops: KvOp[], marks: IndexMarks, generation: number): void {
    for (const l of entry.labels) {
      ops.push({ type: 'put', key: postingKey(day, l.name, l.value, entry.sid), value: EMPTY });
      const valueKey = `${day}\u0000${l.name}\u0000${l.value}`;
      if (this.recentValueKeys.get(valueKey) === undefined && this.stagedValueKeys.get(valueKey) !== generation) {
        ops.push({ type: 'put', key: labelValueKey(day, l.name, l.value), value: EMPTY });
        ops.push({ type: 'put', key: labelNameKey(day, l.name), value: EMPTY });
        this.stagedValueKeys.set(valueKey, generation);
      }
    }
    marks.push({ entry, day });
  }

  /** Called after the batch holding the staged keys committed. */
  markCommitted(marks: IndexMarks): void {
    for (const { entry, day } of marks) {
      entry.markIndexed(day);
      for (const l of entry.labels) {
        const valueKey = `${day}\u0000${l.name}\u0000${l.value}`;
        this.recentValueKeys.set(valueKey, true);
        this.stagedValueKeys.delete(valueKey);
      }
    }
  }

  /**
   * Drops series from the write-path cache, so their next write checks ids and index keys again.
   * Deletion may also have removed `V`/`N` keys other series rely on, so those are all restaged.
   */
  forget(labelSets: readonly Labels[]): void {
    this.recentValueKeys.clear();
    this.stagedValueKeys.clear();
    this.byIdentity = new WeakMap();
    for (const labels of labelSets) {
      const key = cacheKeyOf(this.hasher(labels));
      const bucket = this.cache.get(key);
      if (bucket === undefined) continue;
      const kept = bucket.filter((e) => !sameLabels(e.labels, labels));
      for (const e of bucket) if (!kept.includes(e)) e.dropped = true;
      if (kept.length === 0) this.cache.delete(key);
      else this.cache.set(key, kept);
    }
  }

  // ---- read path ------------------------------------------------------------------------------

  /** Days in [startMs, endMs] that hold any index entry, ascending. */
  async daysWithData(startMs: number, endMs: number): Promise<number[]> {
    const lastDay = dayOfMs(endMs);
    const end = labelNamesPrefix(lastDay + 1);
    const days: number[] = [];
    for (let day = dayOfMs(startMs); day <= lastDay; ) {
      const e = await firstEntry(this.kv, labelNamesPrefix(day), end);
      if (e === null) break;
      const found = decodeLabelNameKey(e.key).day;
      days.push(found);
      day = found + 1;
    }
    return days;
  }

  /**
   * Series matching all `matchers` with index entries on a day in [startMs, endMs], sorted by labels.
   * Postings only narrow the candidates down; every candidate's labels are then checked against
   * every matcher, so a matcher whose postings would cost more to read than checking the
   * candidates' labels is left to that check (see postingsForDay).
   */
  async select(matchers: readonly Matcher[], startMs: number, endMs: number): Promise<SelectedSeries[]> {
    const compiled = matchers.map(compileMatcher);
    const selecting = compiled.filter((m) => !m.matches(''));
    if (selecting.length === 0) throw badData('vector selector must contain at least one non-empty matcher');
    // Read before the postings, so that a write between the two makes the selection stale.
    const generation = this.kv.writeGeneration?.();
    const key = generation === undefined ? null : SelectionCache.keyOf(matchers, dayOfMs(startMs), dayOfMs(endMs));
    const cached = key === null ? undefined : this.selections.get(key, generation!);
    if (cached !== undefined) return cached;
    let ids: Postings = EMPTY_POSTINGS;
    for (const day of await this.daysWithData(startMs, endMs)) {
      ids = union(ids, await this.postingsForDay(day, selecting));
    }
    const series = await this.loadLabels(ids);
    const selected = sortByLabels(series.filter((s) => matchesAll(compiled, s.labels)));
    if (key !== null) this.selections.set(key, generation!, selected);
    return selected;
  }

  /**
   * A superset of the series of `day` that match every selecting matcher. The first page of each
   * equality matcher's postings is read in one KV call; the shortest whole list starts the
   * candidates and the other whole ones narrow them. A list longer than a page, or a matcher that
   * is not an equality, is read only while more candidates are left than a page holds: below
   * that, checking their labels costs less than reading its postings. Matchers that also match
   * the empty string (negative ones) are always left to the label check, since their postings
   * cover every series they exclude, on the whole day.
   */
  private async postingsForDay(day: number, selecting: readonly CompiledMatcher[]): Promise<Postings> {
    const equalities = selecting.filter((m) => m.type === '=');
    const others = selecting.filter((m) => m.type !== '=');
    const ranges = equalities.map((m) => {
      const prefix = postingsPrefix(day, m.name, m.value);
      return { start: prefix, end: prefixEnd(prefix), limit: POSTINGS_FIRST_PAGE };
    });
    const firstPages = ranges.length === 0 ? [] : await this.kv.scanMany(ranges);
    const whole: Postings[] = [];
    const partial: { range: KvRange; entries: KvEntry[]; next: Uint8Array }[] = [];
    firstPages.forEach((page, i) => {
      if (page.next === undefined) whole.push(BigUint64Array.from(page.entries, (e) => postingKeySid(e.key)));
      else partial.push({ range: ranges[i]!, entries: page.entries, next: page.next });
    });
    whole.sort((a, b) => a.length - b.length);
    let ids: Postings | null = null;
    for (const p of whole) {
      ids = ids === null ? p : intersect(ids, p);
      if (ids.length === 0) return ids;
    }
    const worthReading = (): boolean => ids === null || ids.length > POSTINGS_FIRST_PAGE;
    for (const p of partial) {
      if (!worthReading()) break;
      const sids = p.entries.map((e) => postingKeySid(e.key));
      await scanEach(this.kv, p.next, p.range.end, (e) => sids.push(postingKeySid(e.key)));
      const list = BigUint64Array.from(sids); // in sid order: the sid ends the key
      ids = ids === null ? list : intersect(ids, list);
      if (ids.length === 0) return ids;
    }
    for (const m of others) {
      if (!worthReading()) break;
      const list = await this.postingsWhere(day, m.name, m.matches);
      ids = ids === null ? list : intersect(ids, list);
      if (ids.length === 0) return ids;
    }
    return ids ?? EMPTY_POSTINGS;
  }

  private async postingsOf(day: number, name: string, value: string): Promise<Postings> {
    const prefix = postingsPrefix(day, name, value);
    const ids: bigint[] = [];
    await scanEach(this.kv, prefix, prefixEnd(prefix), (e) => ids.push(postingKeySid(e.key)));
    return BigUint64Array.from(ids); // already in sid order: the sid ends the key
  }

  private async postingsWhere(day: number, name: string, pick: (value: string) => boolean): Promise<Postings> {
    const values = (await this.valuesOfDay(day, name)).filter(pick);
    if (values.length === 1) return this.postingsOf(day, name, values[0]!);
    const ranges = values.map((v) => {
      const prefix = postingsPrefix(day, name, v);
      return { start: prefix, end: prefixEnd(prefix) };
    });
    // The postings of every picked value in one KV call; each list is in sid order already.
    const lists = await entriesInRanges(this.kv, ranges);
    return unionAll(lists.map((entries) => BigUint64Array.from(entries, (e) => postingKeySid(e.key))));
  }

  private async valuesOfDay(day: number, name: string): Promise<string[]> {
    const prefix = labelValuesPrefix(day, name);
    const values: string[] = [];
    await scanEach(this.kv, prefix, prefixEnd(prefix), (e) => values.push(decodeLabelValueKey(e.key).value));
    return values;
  }

  /** Labels of each id (ids whose `S` key is missing are left out). */
  async loadLabels(ids: Postings): Promise<SelectedSeries[]> {
    const out: SelectedSeries[] = [];
    const missing: bigint[] = [];
    for (const sid of ids) {
      const labels = this.labelsBySid.get(sid);
      if (labels !== undefined) out.push({ sid, labels });
      else missing.push(sid);
    }
    for (let i = 0; i < missing.length; i += 1000) {
      const page = missing.slice(i, i + 1000);
      const values = await this.kv.getMany(page.map(seriesKey));
      page.forEach((sid, j) => {
        const bytes = values[j];
        if (bytes === null || bytes === undefined) return;
        const labels = decodeLabels(bytes);
        this.labelsBySid.set(sid, labels);
        out.push({ sid, labels });
      });
    }
    return out;
  }

  /** Label names with index entries on the days in range. */
  async labelNames(startMs: number, endMs: number): Promise<Set<string>> {
    const names = new Set<string>();
    for (const day of await this.daysWithData(startMs, endMs)) {
      const prefix = labelNamesPrefix(day);
      await scanEach(this.kv, prefix, prefixEnd(prefix), (e) => names.add(decodeLabelNameKey(e.key).name));
    }
    return names;
  }

  /** Values of one label name with index entries on the days in range. */
  async labelValues(name: string, startMs: number, endMs: number): Promise<Set<string>> {
    const values = new Set<string>();
    for (const day of await this.daysWithData(startMs, endMs)) {
      for (const v of await this.valuesOfDay(day, name)) values.add(v);
    }
    return values;
  }

  /** Every posting key of one day, for statistics. */
  async eachPosting(day: number, visit: (name: string, value: string, sid: bigint) => void): Promise<void> {
    const prefix = postingsDayPrefix(day);
    await scanEach(this.kv, prefix, prefixEnd(prefix), (e) => {
      const p = decodePostingKey(e.key);
      visit(p.name, p.value, p.sid);
    });
  }
}
