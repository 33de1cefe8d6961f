// Runs Prometheus's PromQL test scripts (*.test) against our engine.
// Usage: npm run conformance -- DIR [--strict] [--storage=kv] [--verbose]
// --strict adds the upstream runner's extra checks: range mode, @ variants, a 10,000 sample limit.
// --storage=kv loads the series into the real storage over an in-memory KV instead of a plain map.
import { MemoryKv } from '../src/kv/memory.js';
import { parseExpr } from '../src/promql/parser/index.js';
import type { TestStorage } from '../src/promql/testing/runner.js';
import { runDirectory, summarize } from '../src/promql/testing/runner.js';
import { Storage } from '../src/storage/index.js';
import { appendBatchOf } from '../src/storage/append-batch.js';

async function openKvStorage(): Promise<TestStorage> {
  const storage = await Storage.open(new MemoryKv());
  return {
    select: (params) => storage.select(params),
    load: (series) => storage.append(appendBatchOf(series)),
    close: () => storage.close(),
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (dir === undefined) {
    process.stderr.write('usage: npm run conformance -- DIR [--strict] [--storage=kv] [--verbose]\n');
    return 2;
  }
  const strict = args.includes('--strict');
  const results = await runDirectory(dir, {
    parse: parseExpr,
    rangeCheck: strict,
    atModifierCheck: strict,
    ...(strict ? { maxSamples: 10_000 } : {}),
    ...(args.includes('--storage=kv') ? { openStorage: openKvStorage } : {}),
  });
  for (const r of results) {
    if (r.status === 'failed') {
      process.stdout.write(`FAIL ${r.file}:${r.line}: ${r.expr}\n    ${r.message ?? ''}\n`);
    } else if (r.status === 'skipped') {
      process.stdout.write(`SKIP ${r.file}:${r.line}: ${r.expr} (${r.message ?? ''})\n`);
    } else if (args.includes('--verbose')) {
      process.stdout.write(`ok   ${r.file}:${r.line}: ${r.expr}\n`);
    }
  }
  const { passed, failed, skipped } = summarize(results);
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
