import { expect } from 'chai';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_QUEUE, type QueueConfig, type RemoteWriteConfig } from '../../src/agent/config.js';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { parseRetryAfter, remoteClient } from '../../src/agent/remote-client.js';
import { RemoteWriter } from '../../src/agent/remote-writer.js';
import type { SampleBatch } from '../../src/agent/samples.js';
import { setStaleAt } from '../../src/model/value.js';
import { tempDir } from '../helpers/tmp.js';
import { startFakeReceiver, type FakeReceiver, type Reply } from './fake-receiver.js';

function batch(n: number, firstTs = 1000, metric = 'm'): SampleBatch {
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = i;
  return {
    series: Array.from({ length: n }, (_, i) => [
      { name: '__name__', value: metric },
      { name: 'i', value: String(i) },
    ]),
    timestampsMs: new Float64Array(n).fill(firstTs),
    values,
  };
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('agent remote writer', () => {
  const open: { writer: RemoteWriter; receiver: FakeReceiver }[] = [];
  afterEach(async () => {
    for (const { writer, receiver } of open.splice(0)) {
      await writer.close(50);
      await receiver.close();
    }
  });

  async function setup(replies: (n: number) => Reply, queue: Partial<QueueConfig> = {}, queueDir?: string) {
    const receiver = await startFakeReceiver(replies);
    const config: RemoteWriteConfig = {
      url: receiver.url,
      name: 'test',
      remoteTimeoutMs: 2000,
      headers: {},
      queue: { ...DEFAULT_QUEUE, maxShards: 1, batchSendDeadlineMs: 50, minBackoffMs: 40, maxBackoffMs: 100, ...queue },
    };
    const metrics = new AgentMetrics();
    const writer = new RemoteWriter({
      config,
      client: remoteClient(config.url, config.remoteTimeoutMs, {}, undefined),
      metrics,
      ...(queueDir === undefined ? {} : { queueDir, checkpointIntervalMs: 50 }),
    });
    await writer.start();
    open.push({ writer, receiver });
    return { receiver, writer, metrics };
  }

  async function counter(metrics: AgentMetrics, name: string, labels: Record<string, string>): Promise<number> {
    const json = await metrics.registry.getMetricsAsJSON();
    const m = json.find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, lv]) => x.labels[k] === lv));
    return v?.value ?? 0;
  }

  it('retries 5xx with doubling backoff capped at max_backoff, then delivers', async () => {
    const { receiver, metrics } = await setup((n) => ({ status: n < 3 ? 503 : 200 }), { minBackoffMs: 100, maxBackoffMs: 200 });
    const b = batch(5);
    setStaleAt(b.values, 2);
    const { writer } = open[0]!;
    writer.append(b);
    await eventually(() => receiver.accepted().length === 5);
    expect(receiver.requests.map((r) => r.status)).to.deep.equal([503, 503, 503, 200]);
    const gaps = receiver.requests.slice(1).map((r, i) => r.atMs - receiver.requests[i]!.atMs);
    expect(gaps[0]).to.be.at.least(95); // 100 ms
    expect(gaps[1]).to.be.at.least(195); // 200 ms
    expect(gaps[2]).to.be.at.least(195).and.below(390); // capped at 200 ms, not 400
    expect(receiver.accepted().map((s) => s.stale)).to.deep.equal([false, false, true, false, false]);
    // The receiver has the request before the writer has read the answer.
    await eventually(async () => (await counter(metrics, 'metricstor_agent_samples_sent_total', { remote: 'test' })) === 5);
    expect(await counter(metrics, 'metricstor_agent_samples_retried_total', { remote: 'test' })).to.equal(15);
  });

  it('honours Retry-After on 429', async () => {
    const { receiver, writer } = await setup((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 }));
    writer.append(batch(2));
    await eventually(() => receiver.accepted().length === 2);
    expect(receiver.requests[1]!.atMs - receiver.requests[0]!.atMs).to.be.at.least(950);
  });

  it('does not retry other 4xx and counts the samples as rejected', async () => {
    const { receiver, writer, metrics } = await setup((n) => ({ status: n === 0 ? 400 : 200 }));
    writer.append(batch(3));
    await eventually(() => receiver.requests.length === 1);
    writer.append(batch(2, 2000));
    await eventually(() => receiver.accepted().length === 2);
    expect(receiver.requests.map((r) => r.status)).to.deep.equal([400, 200]);
    expect(await counter(metrics, 'metricstor_agent_samples_dropped_total', { reason: 'rejected' })).to.equal(3);
  });

  it('sends full batches at once and the rest after the deadline; series stay in order across shards', async () => {
    const { receiver, writer } = await setup(() => ({ status: 200 }), { maxSamplesPerSend: 10, maxShards: 3, batchSendDeadlineMs: 300 });
    const started = Date.now();
    for (let t = 0; t < 5; t++) writer.append(batch(5, 1000 + t));
    await eventually(() => receiver.accepted().length === 25);
    expect(receiver.requests.every((r) => r.samples.length <= 10)).to.equal(true);
    expect(Date.now() - started).to.be.at.least(250); // the partial batches waited for the deadline
    const bySeries = new Map<string, number[]>();
    for (const s of receiver.accepted()) bySeries.set(s.series, [...(bySeries.get(s.series) ?? []), s.t]);
    for (const ts of bySeries.values()) expect(ts).to.deep.equal([1000, 1001, 1002, 1003, 1004]);
  });

  it('drops what exceeds the queue capacity and counts it', async () => {
    const { writer, metrics } = await setup(() => ({ status: 503 }), { capacity: 10 });
    writer.append(batch(15));
    expect(await counter(metrics, 'metricstor_agent_samples_dropped_total', { reason: 'queue_full' })).to.equal(5);
    expect(await counter(metrics, 'metricstor_agent_queue_samples', { remote: 'test' })).to.be.at.most(10);
  });

  it('with queue_dir, samples queued at shutdown are sent after the next start', async () => {
    const dir = await tempDir('agent-queue');
    const first = await setup(() => ({ status: 503 }), {}, dir);
    const b = batch(4);
    setStaleAt(b.values, 3);
    first.writer.append(b);
    await eventually(() => first.receiver.requests.length >= 1);
    await first.writer.close(50);
    expect(await readdir(dir)).to.deep.equal(['test.queue.jsonl']);
    const second = await setup(() => ({ status: 200 }), {}, dir);
    await eventually(() => second.receiver.accepted().length === 4);
    expect(second.receiver.accepted().map((s) => [s.v, s.stale])).to.deep.equal([[0, false], [1, false], [2, false], [NaN, true]]);
    // Removed by the first checkpoint after the queue drained.
    await eventually(async () => (await readdir(dir)).length === 0);
  });

  it('with queue_dir, a crash loses nothing queued before the last checkpoint', async () => {
    const dir = await tempDir('agent-queue-crash');
    const first = await setup(() => ({ status: 503 }), {}, dir);
    first.writer.append(batch(3));
    const file = path.join(dir, 'test.queue.jsonl');
    await eventually(async () => (await readdir(dir)).includes('test.queue.jsonl'));
    // The process dies here: only what is on disk survives.
    const afterCrash = await tempDir('agent-queue-crash-copy');
    await copyFile(file, path.join(afterCrash, 'test.queue.jsonl'));
    const second = await setup(() => ({ status: 200 }), {}, afterCrash);
    await eventually(() => second.receiver.accepted().length === 3);
    expect(second.receiver.accepted().map((s) => s.v)).to.deep.equal([0, 1, 2]);
  });

  it('skips damaged lines of a queue_dir file and sends the rest', async () => {
    const dir = await tempDir('agent-queue-damaged');
    const good = JSON.stringify({ l: [['__name__', 'm']], t: [5], v: Buffer.from(new Float64Array([2.5]).buffer).toString('hex') });
    await writeFile(path.join(dir, 'test.queue.jsonl'), `{"l": [["__name__"\n${good}\n{"l":[],"t":[1],"v":"00"}\n`);
    const { receiver } = await setup(() => ({ status: 200 }), {}, dir);
    await eventually(() => receiver.accepted().length === 1);
    expect(receiver.accepted()).to.deep.equal([{ series: 'm', t: 5, v: 2.5, stale: false }]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).to.equal(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).to.equal(6000);
    expect(parseRetryAfter('soon', 0)).to.equal(undefined);
  });
});
