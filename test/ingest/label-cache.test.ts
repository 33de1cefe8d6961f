import { expect } from 'chai';
import { LabelCache, hashBytes } from '../../src/ingest/label-cache.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import { decodeWriteRequestV1 } from '../../src/ingest/remote-write/decode-v1.js';
import { validateWrite } from '../../src/ingest/validate.js';
import type { SeriesAppend } from '../../src/storage/types.js';
import { encodeV1, labelsOf, ownSamples, seriesOf, v1Series } from './fixtures.js';

describe('ingest: label cache', () => {
  const limits = ingestLimits();

  it('serves a repeated series from the cache with the same result as a fresh decode', () => {
    const cache = new LabelCache();
    const body = encodeV1([
      v1Series({ labels: { job: 'n', __name__: 'up', empty: '' }, samples: [{ value: 1, timestamp: 1 }] }),
      v1Series({ labels: { __name__: 'up', job: 'other' }, samples: [{ value: 2, timestamp: 1 }] }),
    ]);
    const first = decodeWriteRequestV1(body, cache);
    expect(first.series.every((s) => s.valid === undefined && s.rawKey !== undefined)).to.equal(true);
    const firstOut = seriesOf(validateWrite(first, limits, cache));
    expect(cache.size).to.equal(2);

    const second = decodeWriteRequestV1(body, cache);
    expect(second.series.every((s) => s.valid !== undefined)).to.equal(true);
    const secondOut = seriesOf(validateWrite(second, limits, cache));
    expect(secondOut).to.deep.equal(firstOut);
    expect(secondOut[0]!.labels).to.deep.equal(labelsOf({ __name__: 'up', job: 'n' }));
    const withoutRef = (out: SeriesAppend[]): Omit<SeriesAppend, 'ref'>[] => out.map(({ ref: _ref, ...rest }) => rest);
    expect(withoutRef(seriesOf(validateWrite(decodeWriteRequestV1(body), limits)))).to.deep.equal(withoutRef(firstOut));
  });

  it('hands storage the same ref for a cached series on every request', () => {
    const cache = new LabelCache();
    const body = encodeV1([v1Series({ labels: { __name__: 'up', job: 'n' }, samples: [{ value: 1, timestamp: 1 }] })]);
    const first = seriesOf(validateWrite(decodeWriteRequestV1(body, cache), limits, cache))[0]!;
    expect(first.ref).to.not.equal(undefined);
    first.ref!.storage = 'found';
    const second = seriesOf(validateWrite(decodeWriteRequestV1(body, cache), limits, cache))[0]!;
    expect(second.ref).to.equal(first.ref);
    expect(second.labels).to.equal(first.labels);
    expect(seriesOf(validateWrite(decodeWriteRequestV1(body), limits))[0]!.ref).to.equal(undefined);
  });

  it('merges two encodings of one label set and never caches an invalid one', () => {
    const cache = new LabelCache();
    const body = encodeV1([
      v1Series({ labels: { __name__: 'm', a: '1' }, samples: [{ value: 1, timestamp: 1 }] }),
      v1Series({ labels: { a: '1', __name__: 'm' }, samples: [{ value: 2, timestamp: 2 }] }),
    ]);
    for (let round = 0; round < 2; round++) {
      const decoded = decodeWriteRequestV1(body, cache);
      if (round === 1) expect(decoded.series[0]!.valid).to.equal(decoded.series[1]!.valid);
      const out = seriesOf(validateWrite(decoded, limits, cache));
      expect(out).to.have.length(1);
      expect(Array.from(ownSamples(out[0]!).timestamps)).to.deep.equal([1, 2]);
    }
    const bad = encodeV1([v1Series({ labels: { __name__: 'm', 'x-y': '1' }, samples: [{ value: 1, timestamp: 1 }] })]);
    for (let round = 0; round < 2; round++) {
      expect(() => seriesOf(validateWrite(decodeWriteRequestV1(bad, cache), limits, cache))).to.throw(/invalid label name "x-y"/);
    }
  });

  it('stays bounded, keeping recently used entries', () => {
    const cache = new LabelCache(2);
    const v = { labels: [], key: '' };
    const key = (s: string): Uint8Array => new TextEncoder().encode(s);
    const get = (s: string): unknown => cache.get(key(s), 0, key(s).length);
    cache.set(key('a'), v);
    cache.set(key('b'), v);
    cache.set(key('c'), v); // "a" and "b" age into the old generation
    expect(get('a')).to.equal(v); // promoted back
    cache.set(key('d'), v); // young {c, a} is full: old becomes {c, a}, "b" is gone
    expect(get('b')).to.equal(undefined);
    expect(get('c')).to.equal(v);
    expect(cache.size).to.be.at.most(4);
  });

  it('looks bytes up in place, compares them exactly and keeps its own copy of a key', () => {
    const cache = new LabelCache();
    const a = { labels: [], key: 'a' };
    const buf = new Uint8Array([9, 1, 2, 3, 4, 5, 9]);
    cache.set(buf.subarray(1, 6), a);
    buf[3] = 7; // the sender's buffer is reused; the cached key must not change with it
    expect(cache.get(new Uint8Array([1, 2, 3, 4, 5]), 0, 5)).to.equal(a);
    expect(cache.get(new Uint8Array([0, 1, 2, 3, 4, 5, 0]), 1, 6)).to.equal(a);
    expect(cache.get(new Uint8Array([1, 2, 3, 4]), 0, 4)).to.equal(undefined);
    expect(cache.get(new Uint8Array([1, 2, 3, 4, 6]), 0, 5)).to.equal(undefined);
  });

  it('tells apart label sets whose bytes hash alike', () => {
    // Two keys with the same 32-bit hash (the birthday bound finds one among a few 100k keys).
    const cache = new LabelCache(1_000_000);
    const seen = new Map<number, Uint8Array>();
    let pair: [Uint8Array, Uint8Array] | undefined;
    for (let i = 0; i < 1_000_000 && pair === undefined; i++) {
      const k = new TextEncoder().encode(`series-${i}`);
      const h = hashBytes(k, 0, k.length);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, k];
      else seen.set(h, k);
    }
    expect(pair).to.not.equal(undefined);
    const [x, y] = pair!;
    const vx = { labels: [], key: 'x' };
    const vy = { labels: [], key: 'y' };
    cache.set(x, vx);
    cache.set(y, vy);
    expect(cache.get(x, 0, x.length)).to.equal(vx);
    expect(cache.get(y, 0, y.length)).to.equal(vy);
  });
});
