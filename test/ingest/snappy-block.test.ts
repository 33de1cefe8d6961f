import { expect } from 'chai';
import fc from 'fast-check';
import { compressSync } from 'snappy';
import { MetricstorError } from '../../src/errors.js';
import { declaredSnappyLength, decodeSnappyBlock, decodeSnappyBlockInto } from '../../src/ingest/remote-write/snappy-block.js';

function typeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as MetricstorError).type + ': ' + (err as Error).message;
  }
  return 'ok';
}

describe('ingest: snappy block decoding', () => {
  const payload = Buffer.from('metric payload '.repeat(100));
  const block = compressSync(payload);

  it('round-trips a block and reads its declared length', () => {
    expect(declaredSnappyLength(block)).to.equal(payload.length);
    expect(decodeSnappyBlock(block, payload.length).equals(payload)).to.equal(true);
  });

  it('refuses a declared length over the limit before decompressing (too_large)', () => {
    expect(typeOf(() => decodeSnappyBlock(block, payload.length - 1))).to.match(/^too_large: .*1500 bytes, more than the limit of 1499/);
    // A 6-byte body that claims 4 GiB - 1 of output.
    const bomb = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    expect(typeOf(() => decodeSnappyBlock(bomb, 64 << 20))).to.match(/^too_large/);
  });

  it('answers bad_data for truncated, garbage, overlong-header and framed input', () => {
    expect(typeOf(() => decodeSnappyBlock(block.subarray(0, block.length - 3), 1 << 20))).to.match(/^bad_data: snappy: corrupt/);
    expect(typeOf(() => decodeSnappyBlock(Uint8Array.from([0x0a, 0xde, 0xad, 0xbe, 0xef]), 1 << 20))).to.match(/^bad_data/);
    expect(typeOf(() => decodeSnappyBlock(new Uint8Array(0), 1 << 20))).to.match(/^bad_data: snappy: truncated length/);
    // Declares 100,000 bytes (within the limit) but carries a 3-byte literal.
    const short = Uint8Array.from([0xa0, 0x8d, 0x06, 0x08, 0x61, 0x62, 0x63]);
    expect(typeOf(() => decodeSnappyBlock(short, 1 << 20))).to.match(/^bad_data: snappy: corrupt/);
    expect(typeOf(() => decodeSnappyBlock(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 1 << 20))).to.match(/longer than 5 bytes/);
    const framed = Uint8Array.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59, 0x01]);
    expect(typeOf(() => decodeSnappyBlock(framed, 1 << 20))).to.match(/framed \(stream\) format/);
  });

  const fresh = (bytes: number): ArrayBuffer => new ArrayBuffer(bytes);
  const outcome = (fn: () => Uint8Array): string => {
    try {
      return 'ok ' + Buffer.from(fn()).toString('hex');
    } catch (err) {
      return typeOf(() => {
        throw err;
      });
    }
  };

  it('decodes into a given buffer exactly what the native decoder gives, and fails with its errors', () => {
    const texts = [payload, Buffer.alloc(0), Buffer.from('a'), Buffer.from('abcabcabcabcabcabcabcabcabcabc'.repeat(50)), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251))];
    for (const text of texts) {
      const compressed = compressSync(text);
      const into = decodeSnappyBlockInto(compressed, 1 << 20, (n) => new ArrayBuffer(n + 100));
      expect(Buffer.from(into).equals(text)).to.equal(true);
      expect(into.length).to.equal(text.length);
    }
    expect(outcome(() => decodeSnappyBlockInto(block, payload.length - 1, fresh))).to.equal(outcome(() => decodeSnappyBlock(block, payload.length - 1)));
    expect(outcome(() => decodeSnappyBlockInto(new Uint8Array(0), 1 << 20, fresh))).to.match(/^bad_data: snappy: truncated length/);
  });

  it('agrees with the native decoder on mutated blocks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 600 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { maxLength: 3 }),
        (seed, repeat, edits) => {
          const bytes = Array.from(compressSync(Buffer.concat(Array.from({ length: repeat }, () => Buffer.from(seed)))));
          for (const [at, b, op] of edits) {
            const i = at % Math.max(1, bytes.length);
            if (op === 'set') bytes[i] = b;
            else if (op === 'insert') bytes.splice(i, 0, b);
            else if (bytes.length > 1) bytes.splice(i, 1);
          }
          const mutated = Uint8Array.from(bytes);
          expect(outcome(() => decodeSnappyBlockInto(mutated, 1 << 16, fresh))).to.equal(outcome(() => decodeSnappyBlock(mutated, 1 << 16)));
        },
      ),
      { numRuns: 2000, seed: 11 },
    );
  });
});
