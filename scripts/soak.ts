// Bounded soak: concurrent remote writers and a query loop against a `metricstor serve` child
// process for a fixed time, then a check that every acknowledged sample is stored.
// Usage: npm run soak -- [--seconds=120] [--writers=4] [--series=100] [--samples=10] [--kill]
//   --kill: SIGKILL the server halfway and restart it on the same data; writers retry what was not acknowledged.
import { tempDir } from '../test/helpers/tmp.js';
import { remoteWrite, serve, sleep, type Served } from '../test/reliability/serve.js';

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
}

const SECONDS = option('seconds', 120);
const WRITERS = option('writers', 4);
const SERIES = option('series', 100);
const SAMPLES = option('samples', 10);
const KILL = process.argv.includes('--kill');
const SPACING_MS = 10;

interface Tally {
  requests: number;
  acked: number;
  samples: number;
  errors: Map<string, number>;
  queries: number;
  queryErrors: number;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

async function main(): Promise<number> {
  const dataDir = await tempDir('soak');
  let server: Served = await serve({ dataDir });
  const baseMs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const tally: Tally = { requests: 0, acked: 0, samples: 0, errors: new Map(), queries: 0, queryErrors: 0 };
  // Acknowledged samples per series (each series' timestamps only grow, so a count checks them all).
  const ackedPerSeries = new Map<string, number>();
  const startMs = Date.now();
  const endAtMs = startMs + SECONDS * 1000;
  let restarting: Promise<void> | undefined;

  const writer = async (w: number): Promise<void> => {
    let next = 0;
    while (Date.now() < endAtMs) {
      const series = Array.from({ length: SERIES }, (_, s) => {
        const timestamps = Array.from({ length: SAMPLES }, (_, m) => baseMs + (next + m + 1) * SPACING_MS);
        return { labels: { __name__: 'soak_samples', writer: String(w), s: String(s) }, timestamps, values: timestamps.map((_, m) => next + m) };
      });
      tally.requests++;
      const status = await remoteWrite(server.url, series, 10_000);
      if (status === 204) {
        tally.acked++;
        tally.samples += SERIES * SAMPLES;
        for (const s of series) ackedPerSeries.set(`${w}/${s.labels.s}`, next + SAMPLES);
        next += SAMPLES;
      } else {
        // Not acknowledged: the same samples are sent again, as a remote-write sender retries.
        count(tally.errors, status === 0 ? 'no answer' : String(status));
        await (restarting ?? sleep(100));
      }
    }
  };
  const reader = async (): Promise<void> => {
    while (Date.now() < endAtMs) {
      tally.queries++;
      const params = new URLSearchParams({ query: 'sum by (writer) (count_over_time(soak_samples[2h]))', time: String((baseMs + 7_200_000) / 1000) });
      const ok = await fetch(`${server.url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(10_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ok) tally.queryErrors++;
      await sleep(1000);
    }
  };
  const killer = async (): Promise<void> => {
    if (!KILL) return;
    await sleep((SECONDS * 1000) / 2);
    restarting = (async () => {
      await server.child.kill('SIGKILL');
      server = await serve({ dataDir, httpPort: server.httpPort });
    })();
    await restarting;
    restarting = undefined;
  };
  await Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), reader(), killer()]);
  const elapsedS = (Date.now() - startMs) / 1000;

  // Every acknowledged sample must be there.
  const params = new URLSearchParams({ query: 'count_over_time(soak_samples[2h])', time: String((baseMs + 7_200_000) / 1000) });
  const res = await fetch(`${server.url}/api/v1/query?${params}`);
  const body = (await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  const stored = new Map(body.data.result.map((r) => [`${r.metric['writer']}/${r.metric['s']}`, Number(r.value[1])]));
  let lost = 0;
  let firstLoss: string | undefined;
  for (const [key, n] of ackedPerSeries) {
    const missing = Math.max(0, n - (stored.get(key) ?? 0));
    lost += missing;
    if (missing > 0) firstLoss ??= key;
  }
  if (firstLoss !== undefined) process.stdout.write(`  first series with missing samples: ${await gaps(server.url, firstLoss, baseMs, ackedPerSeries.get(firstLoss)!)}\n`);
  await server.child.kill('SIGTERM');

  const errors = [...tally.errors].map(([k, n]) => `${k}×${n}`).join(', ') || 'none';
  process.stdout.write(
    `soak: ${elapsedS.toFixed(0)} s, ${WRITERS} writers × ${SERIES} series × ${SAMPLES} samples per request${KILL ? ', SIGKILL + restart halfway' : ''}\n` +
      `  writes: ${tally.acked} acknowledged of ${tally.requests} requests (${(tally.acked / elapsedS).toFixed(1)} requests/s, ` +
      `${Math.round(tally.samples / elapsedS)} samples/s); unacknowledged: ${errors}\n` +
      `  queries: ${tally.queries}, failed: ${tally.queryErrors}\n` +
      `  acknowledged samples: ${tally.samples}; lost: ${lost}\n`,
  );
  return lost === 0 && (KILL || (tally.errors.size === 0 && tally.queryErrors === 0)) ? 0 : 1;
}

/** Where a series' stored samples have gaps, as index ranges (sample i is at baseMs + (i + 1) * SPACING_MS). */
async function gaps(url: string, key: string, baseMs: number, acked: number): Promise<string> {
  const [writer, s] = key.split('/');
  const params = new URLSearchParams({ query: `soak_samples{writer="${writer}",s="${s}"}[2h]`, time: String((baseMs + 7_200_000) / 1000) });
  const res = await fetch(`${url}/api/v1/query?${params}`);
  const body = (await res.json()) as { data: { result: { values: [number, string][] }[] } };
  const have = new Set((body.data.result[0]?.values ?? []).map(([t]) => Math.round((t * 1000 - baseMs) / SPACING_MS) - 1));
  const ranges: string[] = [];
  for (let i = 0; i < acked; i++) {
    if (have.has(i)) continue;
    let j = i;
    while (j + 1 < acked && !have.has(j + 1)) j++;
    ranges.push(`${i}..${j}`);
    i = j;
  }
  return `${key}: ${acked} acknowledged, missing ${ranges.join(', ')}`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${String(err)}\n`);
    process.exit(1);
  },
);
