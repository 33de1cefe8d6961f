import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { XorAppender, XorIterator, chunkNumSamples, decodeXorChunk } from '../../src/chunk/index.js';
import { bitsOf, fromHex, hex } from './helpers.js';

/**
 * Byte vectors worked out by hand from the format (docs/format/chunks.md), then chunks written by
 * Prometheus 2.42 itself (fixtures/prometheus-chunks.json).
 */
describe('chunk/xor byte vectors', () => {
  function encode(samples: [number, number][]): string {
    const a = new XorAppender();
    for (const [t, v] of samples) a.append(t, v);
    return hex(a.bytes());
  }

  it('an empty chunk is the two-byte zero count', () => {
    expect(encode([])).to.equal('0000');
    expect(decodeXorChunk(fromHex('0000')).timestamps).to.have.length(0);
  });

  // t=1000: zig-zag 2000 = 0x7d0 -> varint d0 0f. v=1: 3ff0000000000000. The 64-bit write ends
  // on a byte boundary, so Prometheus's writer leaves one empty byte after it.
  const one = '0001' + 'd00f' + '3ff0000000000000' + '00';
  // t=2000: delta 1000 -> uvarint e8 07. Same value: one 0 bit, which fills the empty byte.
  const two = '0002' + 'd00f' + '3ff0000000000000' + 'e807' + '00';
  // t=3000: dod 0 -> '0'. v=2: 1 xor 2 = 0x7ff0000000000000, 1 leading and 52 trailing zeros,
  // 11 significant bits -> '11' 00001 001011 11111111111. With sample 2's '0' in front:
  // 0 0 11 00001 001011 11111111111 -> 0011 0000 | 1001 0111 | 1111 1111 | 11(00 0000)
  const three = '0003' + 'd00f' + '3ff0000000000000' + 'e807' + '3097ffc0';
  // t=4000, v=3.5: 2 xor 3.5 = 0x000c000000000000: 12 leading, 50 trailing; 50 < 52, so a new
  // window: '0' '11' 01100 000010 11.
  const four = '0004' + 'd00f' + '3ff0000000000000' + 'e807' + '3097ffdb02c0';
  // t=5000, v=3: 3.5 xor 3 = 0x0004000000000000: 13 leading, 50 trailing fit the window (12, 50):
  // '0' '10' and the window's 2 bits 01.
  const five = '0005' + 'd00f' + '3ff0000000000000' + 'e807' + '3097ffdb02d2';

  it('encodes 1 to 5 samples exactly as worked out by hand', () => {
    const samples: [number, number][] = [
      [1000, 1],
      [2000, 1],
      [3000, 2],
      [4000, 3.5],
      [5000, 3],
    ];
    expect(encode(samples.slice(0, 1))).to.equal(one);
    expect(encode(samples.slice(0, 2))).to.equal(two);
    expect(encode(samples.slice(0, 3))).to.equal(three);
    expect(encode(samples.slice(0, 4))).to.equal(four);
    expect(encode(samples)).to.equal(five);
    const back = decodeXorChunk(fromHex(five));
    expect(Array.from(back.timestamps)).to.deep.equal([1000, 2000, 3000, 4000, 5000]);
    expect(Array.from(back.values)).to.deep.equal([1, 1, 2, 3.5, 3]);
  });

  it('encodes a delta-of-delta in the 14-bit bucket', () => {
    // t0=0 -> varint 00; v=0 -> 8 zero bytes (+ the empty byte, filled next); delta 10 -> 0a;
    // '0' (same value); t=25: dod 5 -> '10' 00000000000101; '0' -> 0100 0000 | 0000 0010 | 10(00 0000)
    expect(encode([[0, 0], [10, 0], [25, 0]])).to.equal('0003' + '00' + '0000000000000000' + '0a' + '400280');
  });

  it('encodes a negative first timestamp as a zig-zag varint and a 64-bit delta-of-delta', () => {
    // t=-1 -> zig-zag 1 -> 01. t=0: delta 1 -> 01, same value '0'. t=2^40+1: delta 2^40 + 1,
    // dod 2^40 > 2^19: '1111' then 64 bits 0000010000000000, then '0' for the value.
    const t2 = 2 ** 40 + 1;
    const bits = '0' + '1111' + (2 ** 40).toString(2).padStart(64, '0') + '0';
    const tail = BigInt('0b' + bits.padEnd(72, '0')).toString(16).padStart(18, '0');
    expect(encode([[-1, 0], [0, 0], [t2, 0]])).to.equal('0003' + '01' + '0000000000000000' + '01' + tail);
  });

  it('writes 64 significant bits as 0 and clamps leading zeros to 31', () => {
    const a = new XorAppender();
    a.append(0, 1); // 0x3ff0000000000000
    a.append(1, -1); // xor 0x8000000000000000: 0 leading, 63 trailing -> '11' 00000 000001 1
    a.append(2, 1.0000000000000002); // xor with -1 = 0x8000000000000001: 64 significant -> 000000
    a.append(3, 1.0000000000000004); // xor = 0x...3: 62 leading, clamped to 31; 0 trailing fits (0,0)
    const bytes = a.bytes();
    const tail = hex(bytes.subarray(2 + 1 + 8 + 1));
    // '11' 00000 000001 1 | '0' (dod) '11' 00000 000000 + 64 bits 8000000000000001 | '0' '10' + 64 bits 3
    const bits =
      '11' + '00000' + '000001' + '1' +
      '0' + '11' + '00000' + '000000' + (0x8000000000000001n).toString(2).padStart(64, '0') +
      '0' + '10' + (3).toString(2).padStart(64, '0');
    const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
    expect(tail).to.equal(BigInt('0b' + padded).toString(16).padStart(padded.length / 4, '0'));
    expect(Array.from(decodeXorChunk(bytes).values)).to.deep.equal([1, -1, 1.0000000000000002, 1.0000000000000004]);
  });

  describe('chunks written by Prometheus 2.42', () => {
    interface Fixture {
      producedBy: string;
      series: { name: string; timestamps: number[]; values: string[]; chunks: string[] }[];
    }
    const fixture = JSON.parse(
      readFileSync(new URL('./fixtures/prometheus-chunks.json', import.meta.url), 'utf8'),
    ) as Fixture;

    function parseValue(text: string): number {
      if (text === '+Inf') return Infinity;
      if (text === '-Inf') return -Infinity;
      return Number(text);
    }

    for (const series of fixture.series) {
      it(`decodes and re-encodes ${series.name} byte for byte`, () => {
        let k = 0;
        for (const chunkHex of series.chunks) {
          const bytes = fromHex(chunkHex);
          const { timestamps, values } = decodeXorChunk(bytes);
          expect(timestamps.length).to.equal(chunkNumSamples(bytes));
          for (let i = 0; i < timestamps.length; i++, k++) {
            expect(timestamps[i]).to.equal(series.timestamps[k]);
            const want = parseValue(series.values[k]!);
            if (Number.isNaN(want)) {
              // Go's math.NaN(), which the OpenMetrics parser returns for "NaN".
              expect(bitsOf(values.subarray(i, i + 1))[0]).to.equal(0x7ff8000000000001n);
            } else {
              expect(Object.is(values[i], want), `${series.name}[${k}] = ${values[i]}, want ${want}`).to.equal(true);
            }
          }
          const a = new XorAppender();
          for (let i = 0; i < timestamps.length; i++) a.appendFrom(values, i, timestamps[i]!);
          expect(hex(a.bytes())).to.equal(chunkHex);
          // The iterator walks the same samples.
          const it = new XorIterator(bytes);
          let n = 0;
          while (it.next()) expect(it.t).to.equal(timestamps[n++]);
          expect(n).to.equal(timestamps.length);
        }
        expect(k).to.equal(series.timestamps.length);
      });
    }
  });
});
