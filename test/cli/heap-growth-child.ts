// Keeps about 20 MiB live while allocating garbage, and prints the largest heap V8 committed.
import { limitHeapGrowth } from '../../src/cli/heap-growth.js';

limitHeapGrowth(Number(process.argv[2]));
const live: { k: number; s: string }[][] = [];
let largest = 0;
for (let i = 0; i < 3000; i++) {
  const batch: { k: number; s: string }[] = [];
  for (let k = 0; k < 2000; k++) batch.push({ k, s: `x${k}` });
  live.push(batch);
  if (live.length > 60) live.shift();
  largest = Math.max(largest, process.memoryUsage().heapTotal);
}
process.stdout.write(`${largest}\n`);
