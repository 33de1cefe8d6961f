import { expect } from 'chai';
import type { AggregateExpr, BinaryExpr, Expr } from '../../../src/promql/parser/index.js';
import { formatExpr, parseExpr } from '../../../src/promql/parser/index.js';

function parseAs<K extends Expr['kind']>(query: string, kind: K): Extract<Expr, { kind: K }> {
  const e = parseExpr(query);
  if (e.kind !== kind) throw new Error(`${query} parsed as ${e.kind}, not ${kind}`);
  return e as Extract<Expr, { kind: K }>;
}

describe('PromQL modifiers', () => {
  describe('offset', () => {
    it('applies to instant selectors, range selectors and subqueries', () => {
      expect(parseAs('x offset 5m', 'VectorSelector').offsetMs).to.equal(300_000);
      expect(parseAs('x[1m] offset 5m', 'MatrixSelector').vector.offsetMs).to.equal(300_000);
      expect(parseAs('x[1h:1m] offset 5m', 'SubqueryExpr').offsetMs).to.equal(300_000);
    });

    it('may be negative, with or without a space after the sign', () => {
      expect(parseAs('x offset -5m', 'VectorSelector').offsetMs).to.equal(-300_000);
      expect(parseAs('x offset - 1h', 'VectorSelector').offsetMs).to.equal(-3_600_000);
      expect(formatExpr(parseExpr('x offset -90s'))).to.equal('x offset -1m30s');
    });

    it('is a case-insensitive keyword', () => {
      expect(parseAs('x OFFSET 1m', 'VectorSelector').offsetMs).to.equal(60_000);
    });

    it('extends the position of the modified node', () => {
      expect(parseAs('x offset 5m', 'VectorSelector').pos).to.deep.equal({ start: 0, end: 11 });
      expect(parseAs('x[1m] offset 5m', 'MatrixSelector').pos).to.deep.equal({ start: 0, end: 15 });
    });
  });

  describe('@', () => {
    it('takes a timestamp in seconds, signed, as any number literal', () => {
      expect(parseAs('x @ 100', 'VectorSelector').at).to.deep.equal({ kind: 'timestamp', ms: 100_000 });
      expect(parseAs('x @ -1.5', 'VectorSelector').at).to.deep.equal({ kind: 'timestamp', ms: -1_500 });
      expect(parseAs('x @ 0x10', 'VectorSelector').at).to.deep.equal({ kind: 'timestamp', ms: 16_000 });
      expect(parseAs('x @ 1e3', 'VectorSelector').at).to.deep.equal({ kind: 'timestamp', ms: 1_000_000 });
      expect(parseAs('x @ 1.0005', 'VectorSelector').at).to.deep.equal({ kind: 'timestamp', ms: 1_001 });
    });

    it('takes start() and end(), in any case and with spaces', () => {
      expect(parseAs('x @ start()', 'VectorSelector').at).to.deep.equal({ kind: 'start' });
      expect(parseAs('x @ END ( )', 'VectorSelector').at).to.deep.equal({ kind: 'end' });
    });

    it('combines with offset in either order', () => {
      for (const q of ['x @ 10 offset 1m', 'x offset 1m @ 10']) {
        const vs = parseAs(q, 'VectorSelector');
        expect(vs.offsetMs).to.equal(60_000);
        expect(vs.at).to.deep.equal({ kind: 'timestamp', ms: 10_000 });
      }
      const m = parseAs('x[5m] offset 1m @ end()', 'MatrixSelector');
      expect(m.vector.offsetMs).to.equal(60_000);
      expect(m.vector.at).to.deep.equal({ kind: 'end' });
      const s = parseAs('x[5m:] @ start() offset -1m', 'SubqueryExpr');
      expect(s.offsetMs).to.equal(-60_000);
      expect(s.at).to.deep.equal({ kind: 'start' });
    });

    it('prints as seconds with three decimals, before the offset', () => {
      expect(formatExpr(parseExpr('x offset 1m @ 10'))).to.equal('x @ 10.000 offset 1m');
      expect(formatExpr(parseExpr('x @ 1.5'))).to.equal('x @ 1.500');
    });
  });

  describe('ranges and subqueries', () => {
    it('builds matrix selectors from instant selectors', () => {
      const m = parseAs('x{a="b"}[1h30m]', 'MatrixSelector');
      expect(m.rangeMs).to.equal(5_400_000);
      expect(m.vector.name).to.equal('x');
      expect(m.pos).to.deep.equal({ start: 0, end: 15 });
    });

    it('allows spaces and comments inside brackets', () => {
      expect(formatExpr(parseExpr('x[ 5m ]'))).to.equal('x[5m]');
      expect(formatExpr(parseExpr('x[5m : 1m]'))).to.equal('x[5m:1m]');
      expect(formatExpr(parseExpr('x [5m]'))).to.equal('x[5m]');
    });

    it('builds subqueries over any instant-vector expression, step optional', () => {
      const s = parseAs('rate(x[1m])[1h:]', 'SubqueryExpr');
      expect(s.rangeMs).to.equal(3_600_000);
      expect(s.stepMs).to.equal(0);
      expect(s.expr.kind).to.equal('Call');
      expect(parseAs('(a + b)[1h:5m]', 'SubqueryExpr').stepMs).to.equal(300_000);
      expect(parseAs('max_over_time(x[1h:5m])[2h:10m]', 'SubqueryExpr').expr.kind).to.equal('Call');
    });
  });

  describe('Prometheus 2.42 lexer quirks kept for compatibility', () => {
    it('takes one letter inside brackets for the subquery colon', () => {
      expect(formatExpr(parseExpr('max_over_time(x[5m z1m])'))).to.equal('max_over_time(x[5m:1m])');
      expect(() => parseExpr('x[1m offset 1m]')).to.throw("unexpected colon 'f'");
    });

    it('names @ in messages the way Prometheus does', () => {
      expect(() => parseExpr('@ 10')).to.throw('1:1: parse error: unexpected "<Item 57385>" <op:@>');
    });
  });

  describe('aggregations', () => {
    it('accepts by/without before or after the arguments', () => {
      for (const q of ['sum by (a, b) (x)', 'sum(x) by (a, b)', 'SUM BY (a, b,) (x)']) {
        const agg = parseAs(q, 'AggregateExpr');
        expect(agg.grouping).to.deep.equal(['a', 'b']);
        expect(agg.without).to.equal(false);
      }
      const w = parseAs('avg(x) without (c)', 'AggregateExpr');
      expect(w.grouping).to.deep.equal(['c']);
      expect(w.without).to.equal(true);
      expect(w.pos).to.deep.equal({ start: 0, end: 18 });
    });

    it('takes the parameter of topk, bottomk, quantile and count_values first', () => {
      const ops: ReadonlyArray<readonly [string, string]> = [
        ['topk(5, x)', '5'],
        ['bottomk by (a) (5, x)', '5'],
        ['quantile(0.5, x)', '0.5'],
        ['count_values("v", x)', '"v"'],
      ];
      for (const [q, param] of ops) {
        const agg = parseAs(q, 'AggregateExpr');
        expect(agg.param && formatExpr(agg.param)).to.equal(param);
        expect(formatExpr(agg.expr)).to.equal('x');
      }
    });

    it('knows every aggregation operator and lower-cases it', () => {
      const ops = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count'];
      for (const op of ops) expect(parseAs(`${op.toUpperCase()}(x)`, 'AggregateExpr').op).to.equal(op);
      const withParam: AggregateExpr['op'][] = ['topk', 'bottomk', 'quantile'];
      for (const op of withParam) expect(parseAs(`${op}(1, x)`, 'AggregateExpr').op).to.equal(op);
    });

    it('reads an aggregation name not followed by arguments as a metric name', () => {
      expect(parseAs('sum', 'VectorSelector').name).to.equal('sum');
      expect(parseAs('count{a="b"}', 'VectorSelector').name).to.equal('count');
      expect(formatExpr(parseExpr('sum(sum)'))).to.equal('sum(sum)');
    });
  });

  describe('vector matching', () => {
    function matching(q: string): BinaryExpr['matching'] {
      return parseAs(q, 'BinaryExpr').matching;
    }

    it('defaults to one-to-one on all labels between vectors', () => {
      expect(matching('a + b')).to.deep.equal({ card: 'one-to-one', labels: [], on: false, include: [] });
    });

    it('reads on/ignoring with group_left/group_right and extra labels', () => {
      expect(matching('a * on (x, y) group_left (z) b')).to.deep.equal({
        card: 'many-to-one',
        labels: ['x', 'y'],
        on: true,
        include: ['z'],
      });
      expect(matching('a / ignoring (x) group_right b')).to.deep.equal({
        card: 'one-to-many',
        labels: ['x'],
        on: false,
        include: [],
      });
      expect(matching('a - ON() b')).to.deep.equal({ card: 'one-to-one', labels: [], on: true, include: [] });
    });

    it('makes set operators many-to-many', () => {
      expect(matching('a or on (x) b')?.card).to.equal('many-to-many');
    });

    it('leaves matching out when an operand is a scalar', () => {
      expect(matching('a > bool 1')).to.equal(null);
      expect(parseAs('a > bool 1', 'BinaryExpr').returnBool).to.equal(true);
      expect(parseAs('1 < bool 2', 'BinaryExpr').returnBool).to.equal(true);
    });

    it('accepts keywords as label names in grouping lists', () => {
      expect(matching('a + on (by, on, bool, offset) b')?.labels).to.deep.equal(['by', 'on', 'bool', 'offset']);
    });

    it('prints the modifiers canonically', () => {
      expect(formatExpr(parseExpr('a>bool on(x)group_left(y)b'))).to.equal('a > bool on (x) group_left (y) b');
      expect(formatExpr(parseExpr('a * ignoring() group_left() b'))).to.equal('a * ignoring () group_left () b');
    });
  });

  describe('comments and whitespace', () => {
    it('skips # comments to the end of a line anywhere between tokens', () => {
      const q = 'sum by (a) ( # per a\n  rate(x{b="c", # only c\n }[5m]) # rate\n) # done';
      expect(formatExpr(parseExpr(q))).to.equal('sum by (a) (rate(x{b="c"}[5m]))');
    });

    it('does not treat # inside strings as a comment', () => {
      expect(formatExpr(parseExpr('x{a="#b"}'))).to.equal('x{a="#b"}');
    });
  });
});
