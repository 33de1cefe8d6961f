import { expect } from 'chai';
import { compareBytes } from '../../src/kv/bytes.js';
import {
  chunkKey,
  chunkScanRange,
  dayOfMs,
  decodeChunkHeader,
  decodeChunkKey,
  decodeLabelNameKey,
  decodeLabelValueKey,
  decodePostingKey,
  decodeSeriesKey,
  decodeWalKey,
  encodeChunkValue,
  chunkValueData,
  labelNameKey,
  labelValueKey,
  makeSeq,
  postingKey,
  postingsPrefix,
  seriesKey,
  walKey,
  windowStartOfMs,
} from '../../src/storage/keys.js';

describe('storage keys', () => {
  it('round-trips every key family', () => {
    const sid = 0xfedcba9876543210n;
    expect(decodeSeriesKey(seriesKey(sid))).to.equal(sid);
    expect(decodePostingKey(postingKey(-3, 'job', 'a\u0000b\u0001c', sid))).to.deep.equal({
      day: -3,
      name: 'job',
      value: 'a\u0000b\u0001c',
      sid,
    });
    expect(decodeLabelValueKey(labelValueKey(20000, 'x', 'ü'))).to.deep.equal({ day: 20000, name: 'x', value: 'ü' });
    expect(decodeLabelNameKey(labelNameKey(7, '__name__'))).to.deep.equal({ day: 7, name: '__name__' });
    expect(decodeChunkKey(chunkKey(sid, -7_200_000, 5n, 1n << 40n))).to.deep.equal({
      sid,
      windowStartMs: -7_200_000,
      writer: 5n,
      seq: 1n << 40n,
    });
    expect(decodeWalKey(walKey(9n, 10n))).to.deep.equal({ writer: 9n, seq: 10n });
  });

  it('orders days and windows numerically, negatives first', () => {
    const days = [-100, -1, 0, 1, 19000];
    for (let i = 1; i < days.length; i++) {
      expect(compareBytes(labelNameKey(days[i - 1]!, 'a'), labelNameKey(days[i]!, 'a'))).to.equal(-1);
    }
    const ws = [-2 * 7_200_000, -7_200_000, 0, 7_200_000, 1_700_000_000_000];
    for (let i = 1; i < ws.length; i++) {
      expect(compareBytes(chunkKey(1n, ws[i - 1]!, 0n, 0n), chunkKey(1n, ws[i]!, 0n, 0n))).to.equal(-1);
    }
  });

  it('keeps value order and prefix isolation under escaping', () => {
    const values = ['', '\u0000', '\u0000\u0000', '\u0001', 'a', 'a\u0000', 'ab'];
    for (let i = 1; i < values.length; i++) {
      expect(compareBytes(labelValueKey(1, 'n', values[i - 1]!), labelValueKey(1, 'n', values[i]!))).to.equal(-1);
    }
    // postings of value "a" must not include postings of value "a\0..." or "ab"
    const prefix = postingsPrefix(1, 'n', 'a');
    for (const other of ['a\u0000', 'ab']) {
      const k = postingKey(1, 'n', other, 1n);
      const startsWith = prefix.every((b, i) => k[i] === b);
      expect(startsWith, other).to.equal(false);
    }
  });

  it('computes days, windows and chunk scan ranges', () => {
    expect(dayOfMs(-1)).to.equal(-1);
    expect(dayOfMs(86_400_000)).to.equal(1);
    expect(windowStartOfMs(7_199_999)).to.equal(0);
    expect(windowStartOfMs(-1)).to.equal(-7_200_000);
    const r = chunkScanRange(2n, 7_200_001, 14_400_000);
    expect(compareBytes(chunkKey(2n, 7_200_000, 9n, 9n), r.start)).to.be.greaterThan(-1);
    expect(compareBytes(chunkKey(2n, 14_400_000, 0xffffffffffffffffn, 9n), r.end)).to.equal(-1);
    expect(compareBytes(chunkKey(2n, 21_600_000, 0n, 0n), r.end)).to.be.greaterThan(-1);
    expect(compareBytes(chunkKey(2n, 0, 9n, 9n), r.start)).to.equal(-1);
  });

  it('builds sequence numbers from an incarnation and a counter, in that order', () => {
    expect(makeSeq(1, 0)).to.equal(1n << 40n);
    expect(makeSeq(2, 5)).to.equal((2n << 40n) | 5n);
    expect(makeSeq(1, 2 ** 40 - 1) < makeSeq(2, 0)).to.equal(true);
    expect(() => makeSeq(2 ** 24, 0)).to.throw(/incarnation/);
    expect(() => makeSeq(1, 2 ** 40)).to.throw(/counter/);
  });

  it('round-trips chunk headers', () => {
    const v = encodeChunkValue({ encoding: 1, closed: true, minTimeMs: -5, maxTimeMs: 2 ** 50 }, Uint8Array.of(7, 8));
    expect(decodeChunkHeader(v)).to.deep.equal({ encoding: 1, closed: true, minTimeMs: -5, maxTimeMs: 2 ** 50 });
    expect([...chunkValueData(v)]).to.deep.equal([7, 8]);
  });
});
