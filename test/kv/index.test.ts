import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { EmbeddedKv, MemoryKv, kvDir, openKv, type KvBackend } from '../../src/kv/index.js';
import { tempDir } from '../helpers/tmp.js';

describe('openKv', () => {
  let dataDir = '';
  beforeEach(async () => {
    dataDir = await tempDir('kv-open');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('opens the embedded store in the kv subdirectory of the data dir', async () => {
    const kv = await openKv({ backend: 'embedded', dataDir });
    try {
      expect(kv).to.be.instanceOf(EmbeddedKv);
      expect(kvDir(dataDir)).to.equal(path.join(dataDir, 'kv'));
      await kv.batch([{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) }]);
      await access(path.join(dataDir, 'kv'));
    } finally {
      await kv.close();
    }
    const again = await openKv({ backend: 'embedded', dataDir, durability: 'commit' });
    try {
      expect(Array.from((await again.get(Uint8Array.of(1)))!)).to.deep.equal([2]);
    } finally {
      await again.close();
    }
  });

  it('opens a fresh in-memory store', async () => {
    const kv = await openKv({ backend: 'memory', dataDir });
    expect(kv).to.be.instanceOf(MemoryKv);
    expect(await kv.get(Uint8Array.of(1))).to.equal(null);
    await kv.close();
  });

  it('rejects an unknown backend as bad_data', async () => {
    const err = await openKv({ backend: 'etcd' as KvBackend, dataDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(MetricstorError);
    expect((err as MetricstorError).type).to.equal('bad_data');
  });
});
