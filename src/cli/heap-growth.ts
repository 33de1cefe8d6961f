import v8 from 'node:v8';

/**
 * Caps how far V8 lets the heap grow past what its last full collection kept before the next one.
 * Left alone, V8 allows up to four times that when collections are cheap, and a server under
 * steady ingest then holds a few hundred MiB of garbage between collections. V8 reads the flag
 * whenever it sets the next limit, so setting it at startup takes effect without a command-line
 * flag. 0 leaves V8's own choice.
 */
export function limitHeapGrowth(percent: number): void {
  if (!(Number.isSafeInteger(percent) && percent >= 0)) throw new RangeError(`heap growth percent must be a non-negative integer, got ${percent}`);
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
