import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MetricstorError } from '../errors.js';

const FILE_NAME = 'writer-id';

/**
 * The writer id of the node that owns `dataDir`, kept in a file there and created on first use.
 * A node that restarts after a crash is then the same writer, and Storage.open replays its
 * write-ahead records before serving; with a new random id they would wait for the old id's lease
 * to expire and for an orphan check (up to two minutes by default), and acknowledged samples
 * would be missing from queries until then.
 */
export async function persistentWriterId(dataDir: string): Promise<bigint> {
  const file = path.join(dataDir, FILE_NAME);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new MetricstorError('unavailable', `cannot read ${file}: ${String(err)}`);
  }
  if (text !== undefined) {
    const trimmed = text.trim();
    if (!/^[0-9a-f]{1,16}$/.test(trimmed) || BigInt(`0x${trimmed}`) === 0n) {
      throw new MetricstorError('internal', `${file} does not hold a writer id (16 hex digits, not zero): ${JSON.stringify(trimmed.slice(0, 40))}`);
    }
    return BigInt(`0x${trimmed}`);
  }
  let id = 0n;
  while (id === 0n) id = randomBytes(8).readBigUInt64BE(0); // 0 is reserved for compaction
  await mkdir(dataDir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${id.toString(16).padStart(16, '0')}\n`, { flush: true });
  await rename(temp, file);
  return id;
}
