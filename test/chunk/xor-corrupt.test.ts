import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { BitWriter } from '../../src/chunk/bstream.js';
import { ChunkCorruptError, MAX_SAMPLES_PER_CHUNK, XorAppender, XorIterator, chunkNumSamples, decodeXorChunk } from '../../src/chunk/index.js';
import { writeUvarint, writeVarint } from '../../src/chunk/varint.js';
import { MetricstorError } from '../../src/errors.js';
import { fromHex, rawSeries, valuesFromBits } from './helpers.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Every way of reading a chunk must reject it the same way. */
function expectCorrupt(bytes: Uint8Array, pattern?: RegExp): void {
  expect(() => decodeXorChunk(bytes)).to.throw(ChunkCorruptError, pattern);
  expect(() => XorAppender.fromBytes(bytes)).to.throw(ChunkCorruptError, pattern);
  expect(() => {
    const it = new XorIterator(bytes);
    for (let i = 0; i <= 0x10000 && it.next(); i++) {
      // drain
    }
  }).to.throw(ChunkCorruptError, pattern);
}

/** A chunk built field by field, for shapes our encoder never writes. */
function handBuilt(count: number, build: (w: BitWriter) => void): Uint8Array {
  const w = BitWriter.resume(new Uint8Array([count >>> 8, count & 0xff]), 16, false);
  build(w);
  return w.bytes();
}

function sampleChunks(): Uint8Array[] {
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/prometheus-chunks.json', import.meta.url), 'utf8')) as {
    series: { chunks: string[] }[];
  };
  const chunks = fixture.series.flatMap((s) => s.chunks.map(fromHex));
  const a = new XorAppender();
  const max = Number.MAX_SAFE_INTEGER;
  [-max, -max + 1, 0, max - 7, max].forEach((t, i) => a.append(t, i % 2 === 0 ? NaN : i));
  chunks.push(a.bytes());
  return chunks;
}

describe('chunk/xor corrupt input', () => {
  it('rejects every truncation of valid chunks', function () {
    this.timeout(30_000);
    for (const chunk of sampleChunks()) {
      for (let len = 0; len < chunk.length; len++) {
        const cut = chunk.slice(0, len);
        expect(() => decodeXorChunk(cut), `length ${len} of ${chunk.length}`).to.throw(ChunkCorruptError);
        expect(() => XorAppender.fromBytes(cut)).to.throw(ChunkCorruptError);
      }
    }
  });

  it('rejects truncations of random chunks, and the iterator never ends quietly on them', () => {
    fc.assert(
      fc.property(rawSeries(40), fc.nat(), (s, cutSeed) => {
        const a = new XorAppender();
        const values = valuesFromBits(s.bits);
        s.timestamps.forEach((t, i) => a.appendFrom(values, i, t));
        const bytes = a.bytes();
        const cut = bytes.slice(0, cutSeed % bytes.length);
        expectCorrupt(cut);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects extra bytes and non-zero padding after the last sample', () => {
    const a = new XorAppender();
    a.append(1000, 1);
    a.append(2000, 1); // one '0' bit, then 7 bits of padding
    const bytes = a.bytes();
    expectCorrupt(new Uint8Array([...bytes, 0]), /bytes, but its samples end at bit/);
    const padded = bytes.slice();
    padded[padded.length - 1]! |= 1;
    expectCorrupt(padded, /non-zero padding/);
    // A one-sample chunk ends with Prometheus's empty byte; it must be empty.
    const one = new XorAppender();
    one.append(5, 5);
    const dirty = one.bytes();
    dirty[dirty.length - 1] = 0x80;
    expectCorrupt(dirty, /non-zero trailing byte/);
    expectCorrupt(new Uint8Array([0, 0, 0]), /header says 0 samples/);
  });

  it('rejects a header count the bits cannot hold', () => {
    const a = new XorAppender();
    for (let i = 0; i < 10; i++) a.append(i * 15_000, i);
    const bytes = a.bytes();
    // Each further sample needs at least 2 bits ('0' same delta, '0' same value), and at most
    // 8 bits of padding and empty byte follow the last sample, so 5 more can never fit. (Up to 4
    // more can: zero padding is a valid encoding of repeats, which no reader can tell apart.)
    for (const count of [15, 16, 1000, 0xffff]) {
      const lying = bytes.slice();
      lying[0] = count >>> 8;
      lying[1] = count & 0xff;
      expectCorrupt(lying);
    }
    expectCorrupt(fromHex('ffff' + '00'.repeat(100)), /header says 65535 samples, which need at least 131163 bits, but the chunk has 102 bytes/);
    expectCorrupt(new Uint8Array([]), /shorter than the 2-byte header/);
    expectCorrupt(new Uint8Array([0]), /shorter than the 2-byte header/);
    expect(() => chunkNumSamples(new Uint8Array([1]))).to.throw(ChunkCorruptError);
  });

  it('keeps failing once a chunk proved corrupt', () => {
    const a = new XorAppender();
    for (let i = 0; i < 20; i++) a.append(i * 1000, i * 1.5);
    const cut = a.bytes().slice(0, 30);
    const it = new XorIterator(cut);
    let caught: unknown;
    try {
      while (it.next()) {
        // read until it breaks
      }
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ChunkCorruptError);
    expect(() => it.next()).to.throw(ChunkCorruptError, (caught as Error).message);
    expect(() => it.seek(Number.MAX_SAFE_INTEGER)).to.throw(ChunkCorruptError);
  });

  it('rejects varints longer than 64 bits', () => {
    const bytes = handBuilt(1, (w) => {
      for (let i = 0; i < 10; i++) w.writeByte(0xff);
      w.writeByte(0x01);
      w.writeBits64(0, 0, 64);
    });
    expectCorrupt(bytes, /varint overflows 64 bits/);
    // 10th byte above 1 overflows too.
    expectCorrupt(handBuilt(1, (w) => [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02].forEach((b) => w.writeByte(b))), /varint overflows/);
  });

  it('rejects timestamps outside the safe integer range', () => {
    const firstTooBig = handBuilt(1, (w) => {
      writeUvarint(w, 2 ** 54); // zig-zag of 2^53
      w.writeBits64(0, 0, 64);
    });
    expectCorrupt(firstTooBig, /first timestamp 9007199254740992 is outside/);
    const secondTooBig = handBuilt(2, (w) => {
      writeVarint(w, MAX_SAFE - 1);
      w.writeBits64(0, 0, 64);
      writeUvarint(w, 2);
      w.writeBit(0);
    });
    expectCorrupt(secondTooBig, /outside the safe integer range/);
    const thirdTooBig = handBuilt(3, (w) => {
      writeVarint(w, MAX_SAFE - 10);
      w.writeBits64(0, 0, 64);
      writeUvarint(w, 6);
      w.writeBit(0);
      w.writeBit(0); // same delta again: MAX_SAFE + 2
      w.writeBit(0);
    });
    expectCorrupt(thirdTooBig, /outside the safe integer range \(sample 3 of 3\)/);
  });

  it('rejects timestamps that do not increase', () => {
    const zeroDelta = handBuilt(2, (w) => {
      writeVarint(w, 100);
      w.writeBits64(0, 0, 64);
      writeUvarint(w, 0);
      w.writeBit(0);
    });
    expectCorrupt(zeroDelta, /delta 0 .* is not positive/);
    const backwards = handBuilt(3, (w) => {
      writeVarint(w, 100);
      w.writeBits64(0, 0, 64);
      writeUvarint(w, 10);
      w.writeBit(0);
      w.writeBits(0b10, 2);
      w.writeBits(-20 & 0x3fff, 14); // dod -20: delta -10
      w.writeBit(0);
    });
    expectCorrupt(backwards, /delta -10 .* is not positive/);
    const hugeBackwards = handBuilt(3, (w) => {
      writeVarint(w, 100);
      w.writeBits64(0, 0, 64);
      writeUvarint(w, 10);
      w.writeBit(0);
      w.writeBits(0b1111, 4);
      w.writeBits64(0x80000000, 0, 64); // dod -2^63
      w.writeBit(0);
    });
    expectCorrupt(hugeBackwards, /is not positive/);
  });

  it('rejects a value window wider than 64 bits', () => {
    const bytes = handBuilt(2, (w) => {
      writeVarint(w, 0);
      w.writeBits64(0, 0, 64);
      writeUvarint(w, 1);
      w.writeBits(0b11, 2);
      w.writeBits(31, 5);
      w.writeBits(40, 6);
      w.writeBits(0, 32);
      w.writeBits(0xff, 8);
    });
    expectCorrupt(bytes, /31 leading zeros and 40 significant bits/);
  });

  it('never hangs or returns malformed samples on random corruption', function () {
    this.timeout(30_000);
    const chunks = sampleChunks();
    fc.assert(
      fc.property(
        fc.nat(chunks.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const bytes = chunks[which]!.slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          let decoded: { timestamps: Float64Array; values: Float64Array };
          try {
            decoded = decodeXorChunk(bytes);
          } catch (err) {
            expect(err).to.be.instanceOf(ChunkCorruptError);
            expect((err as ChunkCorruptError).type).to.equal('internal');
            return;
          }
          // Whatever survives is well formed: the header's count of increasing safe timestamps.
          const ts = decoded.timestamps;
          expect(ts.length).to.equal(chunkNumSamples(bytes));
          for (let i = 0; i < ts.length; i++) {
            expect(Number.isSafeInteger(ts[i])).to.equal(true);
            if (i > 0) expect(ts[i]! > ts[i - 1]!).to.equal(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('chunk/xor appender input checks', () => {
  function appendError(prepare: (a: XorAppender) => void, t: number): MetricstorError {
    const a = new XorAppender();
    prepare(a);
    try {
      a.append(t, 1);
    } catch (err) {
      expect(err).to.be.instanceOf(MetricstorError);
      return err as MetricstorError;
    }
    throw new Error(`append(${t}) did not throw`);
  }

  it('rejects non-integer, non-finite and out-of-range timestamps as bad_data', () => {
    for (const t of [1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300]) {
      const err = appendError(() => undefined, t);
      expect(err.type).to.equal('bad_data');
      expect(err.message).to.match(/not an integer number of milliseconds/);
    }
  });

  it('rejects a timestamp not after the previous one as bad_data and leaves the chunk as it was', () => {
    const a = new XorAppender();
    a.append(1000, 1);
    a.append(2000, 2);
    const before = a.bytes();
    for (const t of [2000, 1999, -5]) {
      expect(() => a.append(t, 3)).to.throw(MetricstorError, /not after the chunk's last timestamp 2000/);
    }
    expect(Array.from(a.bytes())).to.deep.equal(Array.from(before));
    expect(a.numSamples).to.equal(2);
  });

  it('stops at the 16-bit sample count', () => {
    const a = new XorAppender();
    for (let i = 0; i < MAX_SAMPLES_PER_CHUNK; i++) a.append(i, 0);
    expect(() => a.append(MAX_SAMPLES_PER_CHUNK, 0)).to.throw(MetricstorError, /at most 65535 samples/);
    expect(decodeXorChunk(a.bytes()).timestamps.length).to.equal(MAX_SAMPLES_PER_CHUNK);
  });

  it('has no first or last timestamp when empty', () => {
    const a = new XorAppender();
    expect(() => a.firstT).to.throw(MetricstorError);
    expect(() => a.lastT).to.throw(MetricstorError);
    a.append(-0, 0);
    expect(Object.is(a.firstT, 0)).to.equal(true);
  });

  it('rejects an appendFrom index outside the array', () => {
    const a = new XorAppender();
    expect(() => a.appendFrom(new Float64Array(2), 2, 0)).to.throw(MetricstorError);
    expect(() => a.appendFrom(new Float64Array(2), -1, 0)).to.throw(MetricstorError);
    expect(a.numSamples).to.equal(0);
  });
});
