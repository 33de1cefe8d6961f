import { ByteArena } from '../byte-arena.js';
import type { LabelCache } from '../label-cache.js';
import { COL_LABELS_END, COL_LABELS_HASH, COL_LABELS_START, SERIES_COLUMNS, type ScannedWriteV1 } from '../remote-write/scan-v1.js';
import { FRESH_BUFFERS, type BufferSource } from '../samples-buffer.js';
import type { ValidLabels } from '../types.js';

/** Ids a decode worker hands out before it starts a new generation (bounds its memory). */
export const MAX_WORKER_LABEL_IDS = 100_000;

/** The id of a series whose labels have no bytes (never cached: they fail validation). */
export const NO_LABEL_ID = 0xffffffff;

interface IdEntry {
  /** Where the generation's arena holds a copy of the label bytes this id stands for. */
  readonly keyAt: number;
  readonly keyLength: number;
  readonly id: number;
  /** The next entry whose bytes hash alike. */
  readonly next: IdEntry | undefined;
}

/**
 * A decode worker's names for the label byte strings it has seen: equal bytes get the same small
 * id, so the byte comparison happens on the worker and the main thread looks a label set up by
 * index (LabelIdTable). When `maxIds` ids are out, the next request starts a new generation: the
 * ids restart from 0, and the main thread drops its table on seeing the new generation number.
 */
export class WorkerLabelIds {
  private byHash = new Map<number, IdEntry>();
  private keys = new ByteArena();
  private nextId = 0;
  private currentGeneration = 0;

  constructor(readonly maxIds = MAX_WORKER_LABEL_IDS) {}

  get generation(): number {
    return this.currentGeneration;
  }

  /**
   * Ids for one request's series (NO_LABEL_ID where the label bytes are empty). A generation
   * starts before the request when its series might not fit, never in the middle of one.
   * The array may be longer than the series count; it comes from `buffers`.
   */
  assign(scan: ScannedWriteV1, buffers: BufferSource = FRESH_BUFFERS): Uint32Array {
    const count = scan.seriesCount;
    if (this.nextId > 0 && this.nextId + count > this.maxIds) {
      this.byHash = new Map();
      this.keys = new ByteArena();
      this.nextId = 0;
      this.currentGeneration++;
    }
    const ids = new Uint32Array(buffers.take(count * 4));
    const rows = scan.series;
    for (let i = 0, row = 0; i < count; i++, row += SERIES_COLUMNS) {
      ids[i] = this.idOf(scan.body, rows[row + COL_LABELS_START]!, rows[row + COL_LABELS_END]!, rows[row + COL_LABELS_HASH]! | 0);
    }
    return ids;
  }

  private idOf(body: Uint8Array, start: number, end: number, hash: number): number {
    if (start === end) return NO_LABEL_ID;
    const head = this.byHash.get(hash);
    for (let e = head; e !== undefined; e = e.next) if (this.keys.equals(e.keyAt, e.keyLength, body, start, end)) return e.id;
    const id = this.nextId++;
    this.byHash.set(hash, { keyAt: this.keys.add(body, start, end), keyLength: end - start, id, next: head });
    return id;
  }
}

/** What a scanned request says about its worker's label ids, with that worker's table. */
export interface RequestLabelIds {
  /** Per series, as WorkerLabelIds.assign gave them. */
  readonly ids: Uint32Array;
  readonly generation: number;
  readonly table: LabelIdTable;
}

/**
 * The main thread's side of one worker's ids: id → the validated labels of those bytes, filled
 * from the label cache the first time an id is looked up there. It holds only labels of the
 * cache it was filled from, and only while that cache has not dropped a generation since, so an
 * object found here is one the cache could hand out too (validation groups by identity).
 */
export class LabelIdTable {
  private labels: (ValidLabels | undefined)[] = [];
  private generation = -1;
  private cache: LabelCache | undefined;
  private cacheRotations = 0;

  /**
   * Readies the table for a reply of the given worker generation resolved against `cache`;
   * false when the reply is older than what the table holds (it must not be used).
   */
  open(generation: number, cache: LabelCache): boolean {
    if (generation < this.generation) return false;
    if (generation > this.generation || cache !== this.cache || cache.rotations !== this.cacheRotations) {
      this.labels = [];
      this.generation = generation;
      this.cache = cache;
      this.cacheRotations = cache.rotations;
    }
    return true;
  }

  get(id: number): ValidLabels | undefined {
    return id < this.labels.length ? this.labels[id] : undefined;
  }

  set(id: number, labels: ValidLabels): void {
    const table = this.labels;
    while (table.length <= id) table.push(undefined);
    table[id] = labels;
  }
}
