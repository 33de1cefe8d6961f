import { rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { EmbeddedKv, type EmbeddedDurability } from '../../src/kv/embedded.js';
import { tempDir } from '../helpers/tmp.js';
import { kvContract } from './kv.contract.js';

for (const durability of ['flush', 'commit'] as EmbeddedDurability[]) {
  let dir = '';
  kvContract(
    `embedded (durability ${durability})`,
    async () => {
      dir = await tempDir('kv-embedded');
      return EmbeddedKv.open(path.join(dir, 'kv'), { durability });
    },
    async () => rm(dir, { recursive: true, force: true }),
  );
}

describe('EmbeddedKv', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await tempDir('kv-embedded');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its data across close and reopen', async () => {
    const kvDir = path.join(dir, 'nested', 'kv');
    const first = await EmbeddedKv.open(kvDir);
    await first.batch([
      { type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(10) },
      { type: 'put', key: Uint8Array.of(2), value: new Uint8Array(0) },
    ]);
    expect(await first.compareAndSwap(Uint8Array.of(3), null, Uint8Array.of(30))).to.equal(true);
    await first.close();
    const second = await EmbeddedKv.open(kvDir);
    try {
      const page = await second.scan({ start: new Uint8Array(0), end: new Uint8Array(0) });
      expect(page.entries.map((e) => [Array.from(e.key), Array.from(e.value)])).to.deep.equal([
        [[1], [10]],
        [[2], []],
        [[3], [30]],
      ]);
    } finally {
      await second.close();
    }
  });

  it('refuses keys longer than LMDB allows, before writing anything of the batch', async () => {
    const kv = await EmbeddedKv.open(dir);
    try {
      expect(kv.maxKeyBytes).to.be.greaterThan(500);
      const tooLong = new Uint8Array(kv.maxKeyBytes + 1).fill(7);
      const err = await kv
        .batch([
          { type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(1) },
          { type: 'put', key: tooLong, value: Uint8Array.of(2) },
        ])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(MetricstorError);
      expect((err as MetricstorError).type).to.equal('bad_data');
      expect(await kv.get(Uint8Array.of(1))).to.equal(null);
      const longest = new Uint8Array(kv.maxKeyBytes).fill(7);
      await kv.batch([{ type: 'put', key: longest, value: Uint8Array.of(3) }]);
      expect(Array.from((await kv.get(longest))!)).to.deep.equal([3]);
    } finally {
      await kv.close();
    }
  });

  it('reports a directory it cannot open as unavailable', async () => {
    const file = path.join(dir, 'not-a-dir');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, 'x');
    const err = await EmbeddedKv.open(path.join(file, 'kv')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(MetricstorError);
    expect((err as MetricstorError).type).to.equal('unavailable');
  });
});
