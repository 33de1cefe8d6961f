import { expect } from 'chai';
import { BufferPool } from '../../src/ingest/decode-workers/buffer-pool.js';
import { SamplesBuffer } from '../../src/ingest/samples-buffer.js';

describe('ingest: decode worker buffer pool', () => {
  it('hands back a returned buffer for the next request of its size class', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(5000);
    expect(a.byteLength).to.equal(8192);
    pool.give(a);
    expect(pool.pooledBytes).to.equal(8192);
    expect(pool.take(8000)).to.equal(a);
    expect(pool.pooledBytes).to.equal(0);
    expect(pool.allocatedBytes).to.equal(8192);
  });

  it('keeps at most its limit of spare bytes, whatever comes back', () => {
    const pool = new BufferPool(64 * 1024);
    const taken = Array.from({ length: 100 }, (_, i) => pool.take(4096 << i % 4));
    for (const b of taken) pool.give(b);
    expect(pool.pooledBytes).to.be.at.most(64 * 1024);
    expect(pool.pooledBytes).to.be.greaterThan(0);
    const before = pool.pooledBytes;
    pool.give(new ArrayBuffer(12345));
    pool.give(new ArrayBuffer(0));
    expect(pool.pooledBytes).to.equal(before);
  });

  it('leaves a detached buffer alone', () => {
    const pool = new BufferPool(1 << 20);
    const b = pool.take(4096);
    structuredClone(b, { transfer: [b] });
    expect(b.byteLength).to.equal(0);
    pool.give(b);
    expect(pool.pooledBytes).to.equal(0);
  });

  it('backs a growing SamplesBuffer, getting the outgrown columns back', () => {
    const pool = new BufferPool(1 << 20);
    const samples = new SamplesBuffer(4, pool);
    const value = new Float64Array([0]);
    for (let i = 0; i < 2000; i++) {
      value[0] = i / 4;
      samples.pushFrom(i, value, 0);
    }
    expect(samples.length).to.equal(2000);
    for (let i = 0; i < 2000; i++) {
      expect(samples.timestamps[i]).to.equal(i);
      expect(samples.values[i]).to.equal(i / 4);
    }
    expect(pool.pooledBytes).to.be.greaterThan(0);
    expect(pool.pooledBytes + samples.timestamps.buffer.byteLength + samples.valueBytes.buffer.byteLength).to.equal(pool.allocatedBytes);
  });
});
