import type { KvOp } from '../../kv/kv.js';
import type { Committer } from '../committer.js';
import { makeSeq, walKey } from '../keys.js';
import type { IndexMarks } from '../series-index.js';
import type { SegmentLog } from './segment-log.js';

/**
 * Where the buffered head keeps the samples of each append until a flush has written them as
 * chunks (docs/adr/0004-file-write-ahead-log.md). `append` resolves once the record is durable and
 * the request's index operations are committed in the KV, so replay finds its series.
 */
export interface WriteAheadLog {
  append(record: Uint8Array, ops: readonly KvOp[], marks: IndexMarks): Promise<void>;
}

/**
 * Records as `W writer seq` keys in the KV, in the same batch as the request's index operations;
 * the committer deletes them in the flush batch whose chunks cover them. Any gateway can adopt a
 * stopped writer's records (orphan recovery), so this is the log of a shared KV.
 */
export class KvWriteAheadLog implements WriteAheadLog {
  private counter = 0;

  constructor(
    private readonly committer: Committer,
    private readonly writerId: bigint,
    private readonly incarnation: number,
  ) {}

  append(record: Uint8Array, ops: readonly KvOp[], marks: IndexMarks): Promise<void> {
    const key = walKey(this.writerId, makeSeq(this.incarnation, this.counter++));
    return this.committer.commit(ops, marks, { key, value: record }, false);
  }
}

/**
 * Records in segment files of this node's data directory. The committer cuts a segment when it
 * snapshots the head for a flush and drops the older ones once that flush has committed.
 */
export class FileWriteAheadLog implements WriteAheadLog {
  constructor(
    private readonly committer: Committer,
    readonly segments: SegmentLog,
  ) {}

  async append(record: Uint8Array, ops: readonly KvOp[], marks: IndexMarks): Promise<void> {
    if (ops.length > 0 || marks.length > 0) await this.committer.commit(ops, marks, null, false);
    await this.segments.append(record);
  }
}
