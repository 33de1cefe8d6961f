import { expect } from 'chai';
import { StringPool } from '../../src/ingest/string-pool.js';

describe('ingest/string pool', () => {
  it('keeps one entry per distinct string and returns an equal string', () => {
    const pool = new StringPool(10);
    const decoded = ['job', 'instance', 'job', 'instance', 'job'];
    expect(decoded.map((s) => pool.intern(s))).to.deep.equal(decoded);
    expect(pool.size).to.equal(2);
  });

  it('starts again empty once full, so it never holds more than its bound', () => {
    const pool = new StringPool(3);
    for (let i = 0; i < 10; i++) {
      expect(pool.intern(`value-${i}`)).to.equal(`value-${i}`);
      expect(pool.size).to.be.at.most(3);
    }
    expect(pool.size).to.equal(1);
  });
});
