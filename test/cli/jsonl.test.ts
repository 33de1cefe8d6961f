import { expect } from 'chai';
import { jsonlToExposition } from '../../src/cli/import.js';

describe('import: VictoriaMetrics JSON lines', () => {
  it('becomes exposition lines with millisecond timestamps, escaped label values and special floats', () => {
    const line = JSON.stringify({ metric: { __name__: 'm', b: 'x"y\\z\nw', a: '1' }, values: [1.5, 'NaN', '+Inf', null], timestamps: [1, 2, 3, 4] });
    expect(jsonlToExposition(line, 1)).to.deep.equal({
      text: ['m{b="x\\"y\\\\z\\nw",a="1"} 1.5 1', 'm{b="x\\"y\\\\z\\nw",a="1"} NaN 2', 'm{b="x\\"y\\\\z\\nw",a="1"} +Inf 3', 'm{b="x\\"y\\\\z\\nw",a="1"} NaN 4'].join('\n'),
      samples: 4,
    });
  });

  it('names the line of a malformed entry', () => {
    expect(() => jsonlToExposition('{"metric":{}}', 7)).to.throw(/line 7: /);
    expect(() => jsonlToExposition('{"metric":{"__name__":"m"},"values":[1,2],"timestamps":[1]}', 3)).to.throw(/line 3: .*one length/);
    expect(() => jsonlToExposition('{"metric":{"__name__":"m"},"values":["x"],"timestamps":[1]}', 4)).to.throw(/line 4: values\[0\]/);
    expect(() => jsonlToExposition('not json', 5)).to.throw(/line 5: not JSON/);
  });
});
