import { expect } from 'chai';
import { PooledByteBlocks } from '../../src/chunk/byte-blocks.js';
import { XorAppender } from '../../src/chunk/xor-appender.js';

/** A deterministic mix of repeats, small changes and large jumps, so chunks grow through several sizes. */
function valueAt(series: number, i: number): number {
  return i % 7 === 0 ? series * 1e9 + i * 12345.678 : Math.floor(i / 3) + series * 0.25;
}

describe('chunk: pooled byte blocks', () => {
  it('gives zeroed blocks of at least the size asked, and a given-back block to the next taker', () => {
    const pool = new PooledByteBlocks();
    const a = pool.take(100);
    expect(a.length).to.equal(128);
    a.fill(0xab);
    pool.give(a);
    const b = pool.take(120);
    expect(b.buffer).to.equal(a.buffer);
    expect(b.byteOffset).to.equal(a.byteOffset);
    expect([...b].every((x) => x === 0)).to.equal(true);
    expect(pool.take(10).length).to.equal(64);
    expect(pool.sizeBytes).to.equal(2 * 64 * 1024);
  });

  it('leaves blocks above 4 KiB, and buffers it did not make, to the garbage collector', () => {
    const pool = new PooledByteBlocks();
    const big = pool.take(5000);
    expect(big.length).to.equal(5000);
    pool.give(big);
    pool.give(new Uint8Array(256));
    expect(pool.sizeBytes).to.equal(0);
    const fromSlab = pool.take(256);
    expect(fromSlab.buffer.byteLength).to.equal(64 * 1024);
  });

  it('makes appenders that write the same bytes as ones with buffers of their own, while others are released and reused', () => {
    const pool = new PooledByteBlocks();
    const pooled: XorAppender[] = [];
    const fresh: XorAppender[] = [];
    for (let s = 0; s < 40; s++) {
      pooled.push(new XorAppender(pool));
      fresh.push(new XorAppender());
    }
    for (let i = 0; i < 500; i++) {
      for (let s = 0; s < 40; s++) {
        const t = 1_000_000 + i * 15_000 + (i % 11 === 0 ? 7 : 0);
        const v = new Float64Array([valueAt(s, i)]);
        pooled[s]!.appendFrom(v, 0, t);
        fresh[s]!.appendFrom(v, 0, t);
      }
      if (i % 50 === 49) {
        // retire every fourth chunk: its buffers go back to the pool and the next chunks reuse them
        for (let s = 0; s < 40; s += 4) {
          expect(Buffer.from(pooled[s]!.bytes()).equals(Buffer.from(fresh[s]!.bytes()))).to.equal(true);
          pooled[s]!.release();
          pooled[s] = new XorAppender(pool);
          fresh[s] = new XorAppender();
        }
      }
    }
    for (let s = 0; s < 40; s++) expect(Buffer.from(pooled[s]!.bytes()).equals(Buffer.from(fresh[s]!.bytes())), `series ${s}`).to.equal(true);
  });

  it('refuses writes to a released appender once they reach its buffer', () => {
    const a = new XorAppender(new PooledByteBlocks());
    a.appendWords(1_000, 0x40000000, 0);
    a.release();
    expect(() => {
      for (let i = 1; i < 100; i++) a.appendWords(1_000 + i * 15_000, 0x40000000 + i * 977, i * 31);
    }).to.throw(/released/);
  });
});
