import { expect } from 'chai';
import fc from 'fast-check';
import {
  compareBytes,
  concat,
  decodeUint32BE,
  decodeUint64BE,
  decodeUint64WordsBE,
  encodeUint32BE,
  encodeUint64BE,
  encodeUint64WordsBE,
  equalBytes,
  keySuccessor,
  prefixEnd,
  toHex,
} from '../../src/kv/bytes.js';

const bytes = fc.uint8Array({ maxLength: 6 }).map((a) => a.map((x) => [0, 1, 0x7f, 0x80, 0xfe, 0xff][x % 6]!));

describe('kv/bytes', () => {
  it('compares as unsigned bytes with a proper prefix first', () => {
    expect(compareBytes(Uint8Array.of(0x7f), Uint8Array.of(0x80))).to.equal(-1);
    expect(compareBytes(Uint8Array.of(0xff), Uint8Array.of(0x00, 0x00))).to.equal(1);
    expect(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).to.equal(-1);
    expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).to.equal(0);
    expect(compareBytes(new Uint8Array(0), Uint8Array.of(0))).to.equal(-1);
    fc.assert(
      fc.property(bytes, bytes, (a, c) => {
        const expected = Buffer.compare(Buffer.from(a), Buffer.from(c));
        return compareBytes(a, c) === expected && equalBytes(a, c) === (expected === 0);
      }),
    );
  });

  it('concatenates parts, views included', () => {
    const big = Uint8Array.of(9, 1, 2, 9);
    expect(toHex(concat(Uint8Array.of(0xaa), big.subarray(1, 3), new Uint8Array(0)))).to.equal('aa0102');
  });

  it('prefixEnd bounds exactly the keys with the prefix', () => {
    expect(toHex(prefixEnd(Uint8Array.of(1, 2)))).to.equal('0103');
    expect(toHex(prefixEnd(Uint8Array.of(1, 0xff, 0xff)))).to.equal('02');
    expect(prefixEnd(Uint8Array.of(0xff, 0xff)).length).to.equal(0);
    expect(prefixEnd(new Uint8Array(0)).length).to.equal(0);
    const original = Uint8Array.of(1, 0xff);
    prefixEnd(original);
    expect(toHex(original)).to.equal('01ff');
    fc.assert(
      fc.property(bytes, bytes, (prefix, key) => {
        const end = prefixEnd(prefix);
        const hasPrefix = key.length >= prefix.length && equalBytes(key.subarray(0, prefix.length), prefix);
        const inRange = compareBytes(key, prefix) >= 0 && (end.length === 0 || compareBytes(key, end) < 0);
        return hasPrefix === inRange;
      }),
    );
  });

  it('keySuccessor is the next key in order', () => {
    expect(toHex(keySuccessor(Uint8Array.of(1, 0xff)))).to.equal('01ff00');
  });

  it('round-trips big-endian integers and orders them like numbers', () => {
    expect(toHex(encodeUint32BE(0x01020304))).to.equal('01020304');
    expect(decodeUint32BE(Uint8Array.of(9, 0xff, 0xff, 0xff, 0xfe), 1)).to.equal(0xfffffffe);
    expect(toHex(encodeUint64BE(0x0102030405060708n))).to.equal('0102030405060708');
    expect(decodeUint64BE(encodeUint64BE((1n << 64n) - 1n))).to.equal((1n << 64n) - 1n);
    expect(toHex(encodeUint64WordsBE(0xdeadbeef, 1))).to.equal('deadbeef00000001');
    expect(decodeUint64WordsBE(encodeUint64BE(0xdeadbeef00000001n))).to.deep.equal({ hi: 0xdeadbeef, lo: 1 });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (x, y) => {
        const ex = encodeUint64BE(x);
        const cmp = compareBytes(ex, encodeUint64BE(y));
        const { hi, lo } = decodeUint64WordsBE(ex);
        return decodeUint64BE(ex) === x && Math.sign(cmp) === (x < y ? -1 : x > y ? 1 : 0) && (BigInt(hi) << 32n) + BigInt(lo) === x;
      }),
    );
  });

  it('refuses values and offsets out of range', () => {
    expect(() => encodeUint32BE(-1)).to.throw(RangeError);
    expect(() => encodeUint32BE(2 ** 32)).to.throw(RangeError);
    expect(() => encodeUint32BE(1.5)).to.throw(RangeError);
    expect(() => encodeUint64BE(1n << 64n)).to.throw(RangeError);
    expect(() => encodeUint64WordsBE(0, 2 ** 32)).to.throw(RangeError);
    expect(() => decodeUint32BE(Uint8Array.of(1, 2, 3))).to.throw(RangeError);
    expect(() => decodeUint64BE(new Uint8Array(8), 1)).to.throw(RangeError);
  });
});
