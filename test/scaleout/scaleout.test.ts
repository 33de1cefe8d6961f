import { expect } from 'chai';
import { tempDir } from '../helpers/tmp.js';
import {
  jobMetric,
  maintenanceRuns,
  rawSamples,
  removeDir,
  sleep,
  startFlareDbDev,
  startGateway,
  writeSample,
  type Gateway,
  type GatewaySettings,
  type Proc,
} from './cluster.js';

const LEASE_TTL_MS = 1500;
const ORPHAN_CHECK_MS = 200;
const FLUSH_MS = 200;
const REQUEST_TIMEOUT_MS = 1000;
/**
 * The KV deadline of the write-through gateways: the product's default, which a working KV meets
 * on a loaded machine (calls of 1–2.5 s were seen there, so 1 s gave 503s with the KV up).
 */
const WRITE_THROUGH_REQUEST_TIMEOUT_MS = 5000;
/** KV calls one request makes one after another (index, then chunk), each with its own deadline. */
const SEQUENTIAL_KV_CALLS = 4;
/** Longest one request may take with the KV stopped: its calls' deadlines, and one more for the rest. */
const KV_BUDGET_MS = (SEQUENTIAL_KV_CALLS + 1) * WRITE_THROUGH_REQUEST_TIMEOUT_MS;

const BASE: Omit<GatewaySettings, 'headFlushIntervalMs'> = {
  leaseTtlMs: LEASE_TTL_MS,
  orphanCheckMs: ORPHAN_CHECK_MS,
  maintenanceIntervalMs: 200,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
};

interface Cluster {
  dev: Proc;
  devAddress: string;
  devDataDir: string;
  gateways: Gateway[];
}

async function startCluster(prefix: string, settings: GatewaySettings): Promise<Cluster> {
  const devDataDir = await tempDir(`${prefix}-flaredb`);
  const { proc, address } = await startFlareDbDev(devDataDir);
  const cluster: Cluster = { dev: proc, devAddress: address, devDataDir, gateways: [] };
  try {
    cluster.gateways = await Promise.all(
      ['a', 'b', 'c'].map((n) => startGateway(`${prefix}-${n}`, address, settings)),
    );
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }
  return cluster;
}

async function stopCluster(cluster: Cluster | undefined): Promise<void> {
  if (cluster === undefined) return;
  await Promise.all(cluster.gateways.map((g) => g.proc.stop()));
  await cluster.dev.stop();
  await removeDir(cluster.devDataDir);
}

/**
 * Polls until every gateway answers `want` for the selector (exactly, or at least when `superset`),
 * or the deadline passes; returns what each answered last.
 */
async function waitForSamples(gateways: readonly Gateway[], selector: string, startMs: number, endMs: number, want: readonly string[], timeoutMs: number, superset = false): Promise<string[][]> {
  const deadline = Date.now() + timeoutMs;
  const done = (seen: string[]): boolean => (superset ? want.every((x) => seen.includes(x)) : seen.join() === want.join());
  let last: string[][] = [];
  for (;;) {
    last = await Promise.all(gateways.map(async (g) => (await rawSamples(g.url, selector, startMs, endMs)).samples));
    if (last.every(done) || Date.now() > deadline) return last;
    await sleep(100);
  }
}

/** Polls /-/ready until it answers 200 or `timeoutMs` passes; resolves to the last status (0 = no answer). */
async function waitForReady(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(timeoutMs) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200 || Date.now() > deadline) return status;
    await sleep(200);
  }
}

/** Writes one sample until it is answered 204 or `timeoutMs` passes; resolves to the last status. */
async function writeUntilAccepted(url: string, labels: Record<string, string>, timestampMs: number, value: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await writeSample(url, labels, timestampMs, value, timeoutMs);
    if (status === 204 || Date.now() > deadline) return status;
    await sleep(200);
  }
}

describe('scale-out on FlareDB (processes)', function () {
  this.timeout(60_000);

  describe('write-through', () => {
    let cluster: Cluster | undefined;
    before(async function () {
      this.timeout(60_000);
      cluster = await startCluster('wt', { ...BASE, headFlushIntervalMs: 0, requestTimeoutMs: WRITE_THROUGH_REQUEST_TIMEOUT_MS });
    });
    after(async () => stopCluster(cluster));

    it('spreads writes of one series round-robin and answers the same complete result through every gateway', async () => {
      const { gateways } = cluster!;
      const baseMs = Date.now() - 120_000;
      const want: string[] = [];
      for (let i = 0; i < 30; i++) {
        const ts = baseMs + i * 1000;
        expect(await writeSample(gateways[i % 3]!.url, { __name__: 'scaleout_rr', job: 'wt' }, ts, i)).to.equal(204);
        want.push(`${ts}=${i}`);
      }
      // Write-through: acknowledged means in the KV, so no wait is needed.
      const seen = await Promise.all(gateways.map((g) => rawSamples(g.url, 'scaleout_rr', baseMs, baseMs + 29_000)));
      for (const s of seen) expect(s).to.deep.equal({ status: 200, samples: want });
    });

    it('answers 503 within the deadline while the KV is stopped, and recovers without a restart when it returns', async function () {
      // Each request below may spend its whole KV budget; this is only a bound against hangs.
      this.timeout(10 * KV_BUDGET_MS);
      const c = cluster!;
      const [a, b] = c.gateways;
      const baseMs = Date.now() - 60_000;
      const labels = { __name__: 'scaleout_outage', job: 'wt' };
      expect(await writeSample(a!.url, labels, baseMs, 1)).to.equal(204);

      c.dev.signal('SIGSTOP');
      try {
        // A write, a read and a readiness probe at once, each timed from its own start.
        const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
          const started = Date.now();
          const value = await run();
          return { value, ms: Date.now() - started };
        };
        const [write, read, ready] = await Promise.all([
          timed(() => writeSample(b!.url, labels, baseMs + 1000, 2, 2 * KV_BUDGET_MS)),
          timed(() => rawSamples(a!.url, 'scaleout_outage_never_written', baseMs, baseMs + 1000, 2 * KV_BUDGET_MS)),
          timed(() => fetch(`${a!.url}/-/ready`, { signal: AbortSignal.timeout(2 * KV_BUDGET_MS) }).then((r) => r.status, () => 0)),
        ]);
        expect(write.value).to.equal(503);
        expect(read.value.status).to.equal(503);
        expect(ready.value).to.equal(503);
        for (const [what, ms] of [['write', write.ms], ['read', read.ms], ['readiness', ready.ms]] as const) {
          expect(ms, `${what} answered after ${ms} ms`).to.be.below(KV_BUDGET_MS);
        }
      } finally {
        // Kill it while stopped and start it again on the same port and data directory.
        await c.dev.kill();
      }
      expect(await writeSample(b!.url, labels, baseMs + 1000, 2, 2 * KV_BUDGET_MS)).to.equal(503);
      const port = Number(c.devAddress.split(':')[1]);
      c.dev = (await startFlareDbDev(c.devDataDir, port)).proc;

      // The gateways reconnect on their own (each after its own gRPC reconnect backoff, so a first
      // call may still fail fast): each one accepts writes and is ready again, without a restart.
      expect(await writeUntilAccepted(b!.url, labels, baseMs + 1000, 2, 2 * KV_BUDGET_MS)).to.equal(204);
      expect(await writeUntilAccepted(c.gateways[2]!.url, labels, baseMs + 2000, 3, 2 * KV_BUDGET_MS)).to.equal(204);
      const readiness = await Promise.all(c.gateways.map((g) => waitForReady(g.url, 2 * KV_BUDGET_MS)));
      expect(readiness).to.deep.equal([200, 200, 200]);
      const seen = await waitForSamples(c.gateways, 'scaleout_outage', baseMs, baseMs + 2000, [`${baseMs}=1`, `${baseMs + 1000}=2`, `${baseMs + 2000}=3`], KV_BUDGET_MS);
      for (const s of seen) expect(s).to.deep.equal([`${baseMs}=1`, `${baseMs + 1000}=2`, `${baseMs + 2000}=3`]);
    });
  });

  describe(`buffered (flush every ${FLUSH_MS} ms)`, () => {
    let cluster: Cluster | undefined;
    before(async function () {
      this.timeout(60_000);
      cluster = await startCluster('buf', { ...BASE, headFlushIntervalMs: FLUSH_MS });
    });
    after(async () => stopCluster(cluster));

    it('shows samples acknowledged by one gateway through the others after the flush interval', async () => {
      const { gateways } = cluster!;
      const baseMs = Date.now() - 120_000;
      const want: string[] = [];
      for (let i = 0; i < 12; i++) {
        const ts = baseMs + i * 1000;
        expect(await writeSample(gateways[i % 3]!.url, { __name__: 'scaleout_buffered', job: 'buf' }, ts, i)).to.equal(204);
        want.push(`${ts}=${i}`);
      }
      const started = Date.now();
      const seen = await waitForSamples(gateways, 'scaleout_buffered', baseMs, baseMs + 11_000, want, 10 * FLUSH_MS + 2000);
      for (const s of seen) expect(s).to.deep.equal(want);
      expect(Date.now() - started).to.be.below(10 * FLUSH_MS + 2000);
    });

    it('loses no acknowledged sample of a gateway killed with SIGKILL mid-stream: another adopts its write-ahead records', async () => {
      const c = cluster!;
      const victim = c.gateways[1]!;
      const labels = { __name__: 'scaleout_kill', job: 'buf' };
      const baseMs = Date.now() - 300_000;
      const acked: string[] = [];
      const ackedBy = [0, 0, 0];
      const refusedByLive: number[] = [];
      /** Sent to the victim without an answer: written or not, both are fine. */
      const unanswered: string[] = [];
      let next = 0;
      let killedAt = 0;
      // Three writers, one per gateway, each sending its own timestamps back to back.
      const writer = async (gatewayIndex: number): Promise<void> => {
        const deadline = Date.now() + 8000;
        while (Date.now() < deadline && (gatewayIndex === 1 || killedAt === 0 || Date.now() - killedAt < 1000)) {
          const i = next++;
          const ts = baseMs + i * 100;
          const gateway = c.gateways[gatewayIndex]!;
          const status = await writeSample(gateway.url, labels, ts, i, 5000);
          if (status === 204) {
            acked.push(`${ts}=${i}`);
            ackedBy[gatewayIndex]!++;
          } else if (gatewayIndex !== 1) refusedByLive.push(status);
          else {
            unanswered.push(`${ts}=${i}`);
            return; // the victim is gone
          }
        }
      };
      // Kill once the victim has acknowledged a few samples, while every writer is still sending.
      const killer = (async () => {
        const until = Date.now() + 6000;
        while (ackedBy[1]! < 8 && Date.now() < until) await sleep(20);
        killedAt = Date.now();
        await victim.proc.kill();
      })();
      await Promise.all([writer(0), writer(1), writer(2), killer]);
      expect(refusedByLive).to.deep.equal([]);
      expect(ackedBy[1], 'samples acknowledged by the killed gateway').to.be.at.least(8);
      acked.sort((x, y) => Number(x.split('=')[0]) - Number(y.split('=')[0]));

      const survivors = [c.gateways[0]!, c.gateways[2]!];
      const endMs = baseMs + next * 100;
      const seen = await waitForSamples(survivors, 'scaleout_kill', baseMs, endMs, acked, 15_000, true);
      const visibleAfterKillMs = Date.now() - killedAt;
      for (const s of seen) {
        const missing = acked.filter((x) => !s.includes(x));
        expect(missing, `${missing.length} acknowledged samples missing`).to.deep.equal([]);
        // Anything else is the victim's last request, which it may have written but not answered.
        expect(s.filter((x) => !acked.includes(x) && !unanswered.includes(x))).to.deep.equal([]);
      }
      // The writer lease expires within its TTL; the next orphan check on a flush tick adopts the
      // records: 1.6–2.4 s after the kill in our runs; the slack absorbs a loaded machine.
      expect(visibleAfterKillMs).to.be.below(LEASE_TTL_MS + ORPHAN_CHECK_MS + 2 * FLUSH_MS + 5000);
    });

    it('runs retention and compaction only on the lease holder, and another gateway takes over when it dies', async () => {
      const c = cluster!;
      const live = c.gateways.filter((g) => g.proc.alive);
      expect(live).to.have.length(2);
      await sleep(LEASE_TTL_MS + 500);
      // Every gateway logs the runs it makes; each job's runs come from one holder at a time.
      const marks = live.map((g) => g.proc.lines.length);
      await sleep(1500);
      const window = (g: Gateway, i: number): { job: string; holder: string }[] => maintenanceRuns(g.proc.lines.slice(marks[i]));
      const runners = (job: string): number[] => live.map((g, i) => window(g, i).filter((r) => r.job === job).length);
      for (const job of ['retention', 'compaction']) {
        const counts = runners(job);
        expect(counts.filter((n) => n > 0), `${job} runs per gateway ${counts.join(',')}`).to.have.length(1);
        expect(Math.max(...counts)).to.be.greaterThan(1);
      }
      // /metrics agrees: one lease holder per job, and its run counter is the one that grows.
      for (const job of ['retention', 'compaction']) {
        const held = await Promise.all(live.map((g) => jobMetric(g.url, 'metricstor_maintenance_lease_held', job)));
        expect(held.filter((v) => v === 1), `${job} lease_held ${held.join(',')}`).to.have.length(1);
        expect(held.filter((v) => v === 0)).to.have.length(1);
      }
      const holderIndex = runners('retention').findIndex((n) => n > 0);
      expect(await jobMetric(live[holderIndex]!.url, 'metricstor_maintenance_lease_held', 'retention')).to.equal(1);
      const holder = live[holderIndex]!;
      const other = live[1 - holderIndex]!;
      const otherBefore = maintenanceRuns(other.proc.lines).filter((r) => r.job === 'retention').length;
      const killedAt = Date.now();
      await holder.proc.kill();
      const deadline = killedAt + LEASE_TTL_MS + 5000;
      let otherRuns = otherBefore;
      while (Date.now() < deadline && otherRuns === otherBefore) {
        await sleep(100);
        otherRuns = maintenanceRuns(other.proc.lines).filter((r) => r.job === 'retention').length;
      }
      expect(otherRuns, 'retention runs on the surviving gateway').to.be.greaterThan(otherBefore);
      expect(await jobMetric(other.url, 'metricstor_maintenance_lease_held', 'retention')).to.equal(1);
      expect(await jobMetric(other.url, 'metricstor_maintenance_runs_total', 'retention')).to.be.at.least(otherRuns);
      expect(Date.now() - killedAt).to.be.below(LEASE_TTL_MS + 5000);
    });
  });
});
