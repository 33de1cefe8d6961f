import { expect } from 'chai';
import fc from 'fast-check';
import { BitReader, BitWriter } from '../../src/chunk/bstream.js';
import { ChunkCorruptError } from '../../src/chunk/errors.js';
import { hex } from './helpers.js';

describe('chunk/bstream', () => {
  it('packs bits most significant first', () => {
    const w = new BitWriter();
    w.writeBit(1);
    w.writeBits(0b010, 3);
    w.writeBits(0xabc, 12);
    w.writeBit(1);
    expect(w.bitLength).to.equal(17);
    // 1 010 1010 1011 1100 1 -> 1010 1010 | 1011 1100 | 1000 0000
    expect(hex(w.bytes())).to.equal('aabc80');
  });

  it('keeps an empty trailing byte after a byte-sized write that ends on a byte boundary', () => {
    const w = new BitWriter();
    w.writeBits(0xab, 8);
    expect(hex(w.bytes())).to.equal('ab00');
    w.writeBit(1);
    expect(hex(w.bytes())).to.equal('ab80');
    w.writeBits(0x7f, 7);
    expect(hex(w.bytes())).to.equal('abff');
    w.writeBits64(0x12345678, 0x9abcdef0, 64);
    expect(hex(w.bytes())).to.equal('abff123456789abcdef000');
    // 36 bits end on a nibble; a 4-bit write that lands on a byte boundary is not byte-sized.
    w.writeBits64(0x1, 0x23456789, 36);
    w.writeBits(0xa, 4);
    expect(hex(w.bytes())).to.equal('abff123456789abcdef0123456789a');
  });

  it('reads back any sequence of writes of 1..64 bits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 64 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { maxLength: 60 }),
        (writes) => {
          const w = new BitWriter(1);
          for (const [n, value] of writes) {
            const v = BigInt.asUintN(n, value);
            w.writeBits64(Number(v >> 32n), Number(v & 0xffffffffn), n);
          }
          const r = new BitReader(w.bytes(), 0, w.bitLength);
          for (const [n, value] of writes) {
            const v = BigInt.asUintN(n, value);
            const hi = n > 32 ? BigInt(r.readBits(n - 32)) : 0n;
            const lo = BigInt(r.readBits(Math.min(n, 32)));
            expect((hi << 32n) | lo).to.equal(v);
          }
          expect(r.remainingBits).to.equal(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('resumes writing at a bit position, dropping what follows', () => {
    const w = new BitWriter();
    w.writeBits(0xfff, 12);
    const resumed = BitWriter.resume(w.bytes(), 5, false);
    resumed.writeBits(0, 3);
    expect(hex(resumed.bytes())).to.equal('f8');
  });

  it('throws ChunkCorruptError when reading past the end', () => {
    const r = new BitReader(new Uint8Array([0xff, 0x00]), 0, 12);
    expect(r.readBits(10)).to.equal(0x3fc);
    expect(() => r.readBits(3)).to.throw(ChunkCorruptError, /needs 3 more bit\(s\) at bit 10/);
    expect(r.readBit()).to.equal(0);
    expect(r.readBit()).to.equal(0);
    expect(() => r.readBit()).to.throw(ChunkCorruptError);
  });
});
