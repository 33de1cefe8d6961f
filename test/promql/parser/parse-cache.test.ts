import { expect } from 'chai';
import { PromqlEngine } from '../../../src/promql/engine/engine.js';
import { parseExpr, type Expr } from '../../../src/promql/parser/index.js';
import { cachedParser } from '../../../src/promql/parser/parse-cache.js';
import { MemoryQueryable } from '../../../src/promql/testing/memory-queryable.js';

/** Freezes every object reachable from the tree, so that any later write to it throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

describe('cachedParser', () => {
  it('answers the same tree for the same query text, parsed once', () => {
    let parses = 0;
    const parse = cachedParser((q) => {
      parses++;
      return parseExpr(q);
    });
    const first = parse('sum by (job) (rate(up[5m]))');
    expect(parse('sum by (job) (rate(up[5m]))')).to.equal(first);
    expect(parses).to.equal(1);
    expect(parse('up')).to.not.equal(first);
    expect(parses).to.equal(2);
  });

  it('does not keep failures: a bad query fails every time', () => {
    let parses = 0;
    const parse = cachedParser((q) => {
      parses++;
      return parseExpr(q);
    });
    expect(() => parse('sum(')).to.throw();
    expect(() => parse('sum(')).to.throw();
    expect(parses).to.equal(2);
  });

  it('parses long texts every time and forgets the least recently used beyond its size', () => {
    const parsed: string[] = [];
    const parse = cachedParser(
      (q) => {
        parsed.push(q);
        return parseExpr(q);
      },
      { maxEntries: 2, maxQueryChars: 10 },
    );
    const long = 'up + up + up';
    parse(long);
    parse(long);
    parse('a');
    parse('b');
    parse('a');
    parse('c'); // evicts b
    parse('b');
    expect(parsed).to.deep.equal([long, long, 'a', 'b', 'c', 'b']);
  });

  it('serves trees the engine never writes to: frozen trees evaluate to the same answers, twice', async () => {
    const store = new MemoryQueryable();
    const times = Array.from({ length: 40 }, (_, i) => i * 15_000);
    for (const job of ['a', 'b']) {
      for (const instance of ['x', 'y']) {
        const labels = [
          { name: '__name__', value: 'http_requests_total' },
          { name: 'instance', value: instance },
          { name: 'job', value: job },
        ];
        store.add(labels, times, Float64Array.from(times, (t) => t / 1000 + (job === 'a' ? 0 : 7)));
      }
    }
    const queries = [
      '1',
      'http_requests_total',
      'http_requests_total offset 1m',
      'http_requests_total @ end()',
      'http_requests_total @ 300',
      'sum by (job) (rate(http_requests_total[2m]))',
      'topk(1, http_requests_total)',
      'max_over_time(rate(http_requests_total[1m])[5m:30s])',
      'http_requests_total / on (instance) group_left sum by (instance) (http_requests_total)',
      'histogram_quantile(0.9, sum by (le) (rate(http_requests_total[5m])))',
      'label_replace(http_requests_total, "j", "$1", "job", "(.*)")',
      '-(http_requests_total > bool 100)',
      'time() - timestamp(http_requests_total)',
    ];
    const fresh = new PromqlEngine(store);
    const cached = new PromqlEngine(store, { parse: cachedParser((q): Expr => deepFreeze(parseExpr(q))) });
    for (const q of queries) {
      const expected = await fresh.rangeQuery(q, 120_000, 585_000, 30_000);
      for (let round = 0; round < 2; round++) {
        expect(await cached.rangeQuery(q, 120_000, 585_000, 30_000), q).to.deep.equal(expected);
        expect(await cached.instantQuery(q, 585_000), q).to.deep.equal(await fresh.instantQuery(q, 585_000));
      }
    }
  });
});
