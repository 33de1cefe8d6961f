import { expect } from 'chai';
import { tempDir } from '../helpers/tmp.js';
import { rawSamples, remoteWrite, serve, seriesKey, sleep, startFlareDbDev, type Child } from './serve.js';

interface Setup {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly flaredb?: boolean;
}

const SETUPS: readonly Setup[] = [
  { name: 'embedded, write-through', env: { METRICSTOR_HEAD_FLUSH_INTERVAL: '0' } },
  { name: 'embedded, buffered head (the default, 10 s flush)', env: {} },
  { name: 'embedded, buffered head, 300 ms flush and 1.5 s lease', env: { METRICSTOR_HEAD_FLUSH_INTERVAL: '300ms', METRICSTOR_LEASE_TTL: '1500ms', METRICSTOR_ORPHAN_CHECK_INTERVAL: '300ms' } },
  { name: 'FlareDB (flaredb-dev), write-through', env: { METRICSTOR_STORAGE_BACKEND: 'flaredb', METRICSTOR_HEAD_FLUSH_INTERVAL: '0' }, flaredb: true },
];

const WRITERS = 4;
const SERIES_PER_REQUEST = 5;
const SAMPLES_PER_SERIES = 5;

/**
 * Streams remote writes from WRITERS concurrent senders until the server stops answering,
 * recording every sample of every request answered 204.
 */
async function streamUntilDead(url: string, baseMs: number, acked: Map<string, string>): Promise<{ requests: number; unanswered: number }> {
  let requests = 0;
  let unanswered = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      for (let i = 0; i < 100_000; i++) {
        const series = Array.from({ length: SERIES_PER_REQUEST }, (_, s) => {
          const timestamps = Array.from({ length: SAMPLES_PER_SERIES }, (_, m) => baseMs + (i * SAMPLES_PER_SERIES + m) * 1000);
          return { labels: { __name__: 'rel_kill', writer: String(writer), s: String(s) }, timestamps, values: timestamps.map((_, m) => i * 10 + m) };
        });
        requests++;
        const status = await remoteWrite(url, series, 5_000);
        if (status === 0) {
          unanswered++;
          return;
        }
        if (status !== 204) throw new Error(`remote write answered ${status}`);
        for (const s of series) {
          const key = seriesKey(s.labels);
          s.timestamps.forEach((t, m) => acked.set(`${key}@${t}`, String(s.values[m])));
        }
      }
    }),
  );
  return { requests, unanswered };
}

describe('SIGKILL during ingestion', function () {
  this.timeout(90_000);
  const children: Child[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill();
  });

  for (const setup of SETUPS) {
    it(`finds every acknowledged sample after a restart: ${setup.name}`, async () => {
      const dataDir = await tempDir('kill');
      const env: Record<string, string> = { ...setup.env };
      if (setup.flaredb) {
        const flare = await startFlareDbDev(await tempDir('kill-flaredb'));
        children.push(flare.child);
        env['METRICSTOR_FLAREDB_ENDPOINTS'] = flare.address;
      }
      const first = await serve({ dataDir, env });
      children.push(first.child);
      const baseMs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
      const acked = new Map<string, string>();
      const streaming = streamUntilDead(first.url, baseMs, acked);
      // Kill at an arbitrary moment once writes are flowing.
      await sleep(1500 + Math.floor(Math.random() * 1000));
      const killedAfter = acked.size;
      await first.child.kill('SIGKILL');
      const { requests, unanswered } = await streaming;
      expect(killedAfter).to.be.greaterThan(0);

      const second = await serve({ dataDir, env, httpPort: first.httpPort });
      children.push(second.child);
      const endMs = baseMs + 3_500_000;
      // A buffered head's write-ahead records are replayed once the dead writer's lease expires.
      let missing: string[] = [];
      const deadline = Date.now() + 20_000;
      do {
        const found = await rawSamples(second.url, 'rel_kill', baseMs, endMs);
        missing = [...acked].filter(([key, value]) => found.get(key) !== value).map(([key]) => key);
        if (missing.length === 0) break;
        await sleep(500);
      } while (Date.now() < deadline);
      if (process.env.FUZZ_REPORT) {
        process.stdout.write(`      [kill] ${setup.name}: ${requests} requests, ${acked.size} samples acknowledged, ${unanswered} requests unanswered at the kill, ${missing.length} acknowledged samples missing\n`);
      }
      expect(missing.slice(0, 5), `${missing.length} of ${acked.size} acknowledged samples missing`).to.deep.equal([]);
    });
  }

  it('serves every acknowledged sample at once after a restart of an embedded node (it replays its own write-ahead records)', async () => {
    // With a fresh writer id per start, the killed writer's records waited for its lease to
    // expire and for an orphan check: acknowledged samples stayed invisible for up to two minutes.
    const dataDir = await tempDir('kill-replay');
    const first = await serve({ dataDir });
    children.push(first.child);
    const baseMs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    for (let r = 0; r < 11; r++) {
      const timestamps = Array.from({ length: 10 }, (_, m) => baseMs + (r * 10 + m + 1) * 1000);
      expect(await remoteWrite(first.url, [{ labels: { __name__: 'rel_replay' }, timestamps, values: timestamps.map((_, m) => r * 10 + m) }])).to.equal(204);
    }
    await first.child.kill('SIGKILL');
    const second = await serve({ dataDir, httpPort: first.httpPort });
    children.push(second.child);
    const found = await rawSamples(second.url, 'rel_replay', baseMs, baseMs + 200_000);
    expect(found.size).to.equal(110);
    expect(found.get(`__name__=rel_replay@${baseMs + 55_000}`)).to.equal('54');
  });
});
