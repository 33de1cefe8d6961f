/** Where the expression box suggests what, and how the UI reads steps and values. */
import { expect } from 'chai';
import { completionContext, rankSuggestions } from '../../web/src/autocomplete.js';
import { autoStepSeconds, chartValue, formatSeries, parseStepSeconds } from '../../web/src/format.js';

/** The context at the `|` marker. */
function at(textWithCursor: string): ReturnType<typeof completionContext> {
  const cursor = textWithCursor.indexOf('|');
  return completionContext(textWithCursor.replace('|', ''), cursor);
}

describe('web UI completion context', () => {
  it('suggests metric names for a bare identifier, also inside function calls', () => {
    expect(at('node_c|')).to.deep.equal({ kind: 'metric', prefix: 'node_c', from: 0 });
    expect(at('rate(http_req|')).to.deep.equal({ kind: 'metric', prefix: 'http_req', from: 5 });
    expect(at('sum(rate(x[5m])) / up|')).to.deep.equal({ kind: 'metric', prefix: 'up', from: 19 });
  });

  it('suggests label names inside braces, with the metric for narrowing', () => {
    expect(at('up{|')).to.deep.equal({ kind: 'label-name', prefix: '', from: 3, metric: 'up' });
    expect(at('up{job="a", inst|')).to.deep.equal({ kind: 'label-name', prefix: 'inst', from: 12, metric: 'up' });
    expect(at('{jo|')).to.deep.equal({ kind: 'label-name', prefix: 'jo', from: 1 });
  });

  it('suggests label values after a matcher and its opening quote', () => {
    expect(at('up{job="no|')).to.deep.equal({ kind: 'label-value', label: 'job', prefix: 'no', from: 8, metric: 'up' });
    expect(at('x{a!~"|')).to.deep.equal({ kind: 'label-value', label: 'a', prefix: '', from: 6, metric: 'x' });
    expect(at('x{a="v", b=~"q\\"r|')).to.deep.equal({ kind: 'label-value', label: 'b', prefix: 'q\\"r', from: 13, metric: 'x' });
  });

  it('suggests label names in grouping clauses', () => {
    expect(at('sum by (mo|')).to.deep.equal({ kind: 'label-name', prefix: 'mo', from: 8 });
    expect(at('sum without (cpu, |')).to.deep.equal({ kind: 'label-name', prefix: '', from: 18 });
    expect(at('a / on(job) group_left(ins|')).to.deep.equal({ kind: 'label-name', prefix: 'ins', from: 23 });
  });

  it('suggests nothing in numbers, durations, closed strings and after a closed brace', () => {
    expect(at('x > 1e|')).to.equal(undefined);
    expect(at('rate(x[5m|')).to.equal(undefined);
    expect(at('label_replace(up, "dst", "abc|')).to.equal(undefined);
    expect(at('x{a="b"} |')).to.equal(undefined);
    expect(at('x{a="b"}|')).to.equal(undefined);
  });

  it('ranks prefix matches first, then substring matches, without the exact word', () => {
    const names = ['node_load1', 'up', 'node_cpu_seconds_total', 'process_cpu_seconds_total', 'cpu'];
    expect(rankSuggestions(names, 'cpu', 10)).to.deep.equal(['node_cpu_seconds_total', 'process_cpu_seconds_total']);
    expect(rankSuggestions(names, 'NODE', 1)).to.deep.equal(['node_cpu_seconds_total']);
    expect(rankSuggestions(names, '', 3)).to.deep.equal(['cpu', 'node_cpu_seconds_total', 'node_load1']);
  });
});

describe('web UI formatting', () => {
  it('prints series as Prometheus does', () => {
    expect(formatSeries({ __name__: 'up', job: 'a"b', instance: 'h:1' })).to.equal('up{instance="h:1", job="a\\"b"}');
    expect(formatSeries({ __name__: 'up' })).to.equal('up');
    expect(formatSeries({})).to.equal('{}');
    expect(formatSeries({ job: 'x' })).to.equal('{job="x"}');
  });

  it('reads steps as seconds or durations and refuses the rest', () => {
    expect(parseStepSeconds('15')).to.equal(15);
    expect(parseStepSeconds('0.5')).to.equal(0.5);
    expect(parseStepSeconds('1m30s')).to.equal(90);
    expect(parseStepSeconds(' 2h ')).to.equal(7200);
    expect(parseStepSeconds('')).to.equal(undefined);
    expect(parseStepSeconds('0')).to.equal(undefined);
    expect(parseStepSeconds('5x')).to.equal(undefined);
    expect(parseStepSeconds('m5')).to.equal(undefined);
    expect(autoStepSeconds(3600)).to.equal(14);
    expect(autoStepSeconds(60)).to.equal(1);
  });

  it('turns special values into chart gaps', () => {
    expect(chartValue('1.5')).to.equal(1.5);
    expect(chartValue('NaN')).to.equal(null);
    expect(chartValue('+Inf')).to.equal(null);
    expect(chartValue('-Inf')).to.equal(null);
  });
});
