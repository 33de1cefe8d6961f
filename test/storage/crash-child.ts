// Appends batches to a storage on an embedded KV until killed, printing "ack <n>" after each
// batch is acknowledged. Used by crash.test.ts; the samples of batch n follow batchSamples().
import path from 'node:path';
import { EmbeddedKv } from '../../src/kv/embedded.js';
import { Storage } from '../../src/storage/index.js';
import type { HeadFlush } from '../../src/storage/index.js';
import { batchSeries, CRASH_WRITER_ID } from './crash-data.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const [dir, policy, leaseTtlArg] = process.argv.slice(2);
if (dir === undefined || (policy !== 'write-through' && policy !== 'buffered' && policy !== 'buffered-file-wal')) {
  process.stderr.write('usage: crash-child <dir> write-through|buffered|buffered-file-wal [writer-lease-ttl-ms]\n');
  process.exit(2);
}
const headFlush: HeadFlush = policy === 'write-through' ? 'write-through' : { intervalMs: 40 };
// With the file log, the layout of a server's data directory: kv/ and wal/.
const fileWal = policy === 'buffered-file-wal';
const kv = await EmbeddedKv.open(fileWal ? path.join(dir, 'kv') : dir, { durability: 'commit' });
const writerLeaseTtlMs = leaseTtlArg === undefined ? 60_000 : Number(leaseTtlArg);
const storage = await Storage.open(kv, {
  writerId: CRASH_WRITER_ID,
  headFlush,
  writerLeaseTtlMs,
  ...(fileWal ? { walDir: path.join(dir, 'wal') } : {}),
});
const deadline = Date.now() + 20_000;
for (let n = 0; n < 100_000 && Date.now() < deadline; n++) {
  await storage.append(appendBatchOf(batchSeries(n)));
  process.stdout.write(`ack ${n}\n`);
}
process.exit(0);
