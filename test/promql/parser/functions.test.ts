import { expect } from 'chai';
import type { ValueType } from '../../../src/promql/parser/index.js';
import { FUNCTIONS, exprType, getFunction, parseExpr } from '../../../src/promql/parser/index.js';
import { parseErrorOf } from './helpers.js';

const SAMPLE_ARG: Readonly<Record<ValueType, string>> = {
  vector: 'x',
  matrix: 'x[5m]',
  scalar: '1',
  string: '"a"',
};

/** Arguments of the declared types, with the repeating one written `repeat` times. */
function argsFor(types: readonly ValueType[], variadic: number, repeat: number): string[] {
  if (variadic === 0) return types.map((t) => SAMPLE_ARG[t]);
  const fixed = types.slice(0, -1).map((t) => SAMPLE_ARG[t]);
  const last = SAMPLE_ARG[types[types.length - 1]!];
  return [...fixed, ...Array.from({ length: repeat }, () => last)];
}

describe('PromQL function signatures', () => {
  it('has every function of Prometheus 2.42', () => {
    expect(FUNCTIONS.size).to.equal(70);
    for (const name of ['rate', 'holt_winters', 'label_join', 'histogram_fraction', 'days_in_month', 'pi']) {
      expect(getFunction(name), name).to.not.equal(undefined);
    }
    for (const name of ['double_exponential_smoothing', 'sort_by_label', 'mad_over_time', 'info']) {
      expect(getFunction(name), name).to.equal(undefined);
    }
  });

  it('marks no 2.42 function as experimental', () => {
    for (const fn of FUNCTIONS.values()) expect(fn.experimental, fn.name).to.equal(false);
  });

  for (const fn of FUNCTIONS.values()) {
    const least = fn.variadic === 0 ? fn.argTypes.length : fn.argTypes.length - 1;
    it(`${fn.name}: accepts its declared arguments and rejects a wrong count`, () => {
      const counts = fn.variadic === 0 ? [1] : fn.variadic > 0 ? [0, fn.variadic] : [0, 1, 3];
      for (const repeat of counts) {
        const q = `${fn.name}(${argsFor(fn.argTypes, fn.variadic, repeat).join(', ')})`;
        expect(exprType(parseExpr(q)), q).to.equal(fn.returnType);
      }
      if (least > 0) {
        const tooFew = `${fn.name}(${argsFor(fn.argTypes, 0, 0).slice(0, least - 1).join(', ')})`;
        expect(parseErrorOf(tooFew), tooFew).to.match(/argument\(s\) in call to/);
      }
      if (fn.variadic >= 0) {
        const max = least + Math.max(fn.variadic, fn.variadic === 0 ? 0 : 1);
        const tooMany = `${fn.name}(${Array.from({ length: max + 1 }, (_, i) => SAMPLE_ARG[fn.argTypes[Math.min(i, fn.argTypes.length - 1)] ?? 'scalar']).join(', ')})`;
        expect(parseErrorOf(tooMany), tooMany).to.match(/argument\(s\) in call to/);
      }
    });
  }

  it('type-checks the repeating argument of variadic functions', () => {
    expect(parseErrorOf('label_join(x, "d", ",", "a", "b", x)')).to.equal(
      '1:35: parse error: expected type string in call to function "label_join", got instant vector',
    );
    expect(parseErrorOf('round(x, "a")')).to.equal(
      '1:10: parse error: expected type scalar in call to function "round", got string',
    );
  });
});
