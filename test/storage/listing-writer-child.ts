// Another process writing to the same embedded KV as a second gateway would: opens the store with
// its own writer id, appends the samples given as JSON and closes (which writes its chunks).
// Used by chunk-listing.test.ts.
import { EmbeddedKv } from '../../src/kv/embedded.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';
import { Storage } from '../../src/storage/index.js';
import { series } from './helpers.js';

const [dir, name, samplesJson] = process.argv.slice(2);
if (dir === undefined || name === undefined || samplesJson === undefined) {
  process.stderr.write('usage: listing-writer-child <dir> <metric name> <[[t, v], ...]>\n');
  process.exit(2);
}
const samples = JSON.parse(samplesJson) as [number, number][];
const kv = await EmbeddedKv.open(dir);
const storage = await Storage.open(kv, { writerId: 9n, headFlush: 'write-through' });
await storage.append(appendBatchOf([series({ __name__: name }, samples)]));
await storage.close();
process.exit(0);
