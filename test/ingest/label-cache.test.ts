import { expect } from 'chai';
import { LabelCache } from '../../src/ingest/label-cache.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import { decodeWriteRequestV1 } from '../../src/ingest/remote-write/decode-v1.js';
import { validateWrite } from '../../src/ingest/validate.js';
import { encodeV1, labelsOf, v1Series } from './fixtures.js';

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
    const firstOut = validateWrite(first, limits, cache);
    expect(cache.size).to.equal(2);

    const second = decodeWriteRequestV1(body, cache);
    expect(second.series.every((s) => s.valid !== undefined)).to.equal(true);
    const secondOut = validateWrite(second, limits, cache);
    expect(secondOut).to.deep.equal(firstOut);
    expect(secondOut[0]!.labels).to.deep.equal(labelsOf({ __name__: 'up', job: 'n' }));
    expect(validateWrite(decodeWriteRequestV1(body), limits)).to.deep.equal(firstOut);
  });

  it('merges two encodings of one label set and never caches an invalid one', () => {
    const cache = new LabelCache();
    const body = encodeV1([
      v1Series({ labels: { __name__: 'm', a: '1' }, samples: [{ value: 1, timestamp: 1 }] }),
      v1Series({ labels: { a: '1', __name__: 'm' }, samples: [{ value: 2, timestamp: 2 }] }),
    ]);
    for (let round = 0; round < 2; round++) {
      const out = validateWrite(decodeWriteRequestV1(body, cache), limits, cache);
      expect(out).to.have.length(1);
      expect(Array.from(out[0]!.timestamps)).to.deep.equal([1, 2]);
    }
    const bad = encodeV1([v1Series({ labels: { __name__: 'm', 'x-y': '1' }, samples: [{ value: 1, timestamp: 1 }] })]);
    for (let round = 0; round < 2; round++) {
      expect(() => validateWrite(decodeWriteRequestV1(bad, cache), limits, cache)).to.throw(/invalid label name "x-y"/);
    }
  });

  it('stays bounded, keeping recently used entries', () => {
    const cache = new LabelCache(2);
    const v = { labels: [], key: '' };
    cache.set('a', v);
    cache.set('b', v);
    cache.set('c', v); // "a" and "b" age into the old generation
    expect(cache.get('a')).to.equal(v); // promoted back
    cache.set('d', v); // young {c, a} is full: old becomes {c, a}, "b" is gone
    expect(cache.get('b')).to.equal(undefined);
    expect(cache.get('c')).to.equal(v);
    expect(cache.size).to.be.at.most(4);
  });
});
