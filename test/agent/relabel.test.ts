import { expect } from 'chai';
import { relabel, relabelRule, type RelabelRule } from '../../src/agent/relabel.js';
import type { Label } from '../../src/model/labels.js';

const L = (o: Record<string, string>): Label[] =>
  Object.entries(o)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

interface Case {
  readonly name: string;
  readonly input: Record<string, string>;
  readonly rules: Partial<RelabelRule>[];
  /** undefined = dropped */
  readonly output: Record<string, string> | undefined;
}

// Cases follow Prometheus 2.42's relabel semantics (model/relabel).
const CASES: Case[] = [
  {
    name: 'replace with defaults copies the joined source values',
    input: { a: 'foo', b: 'bar' },
    rules: [{ sourceLabels: ['a', 'b'], targetLabel: 'c' }],
    output: { a: 'foo', b: 'bar', c: 'foo;bar' },
  },
  {
    name: 'replace with groups, custom separator and ${1}',
    input: { a: 'foo', b: 'bar' },
    rules: [{ sourceLabels: ['a', 'b'], separator: '-', regex: 'f(.*)-(b.*)', targetLabel: 'c', replacement: '${1}x$2' }],
    output: { a: 'foo', b: 'bar', c: 'ooxbar' },
  },
  {
    name: 'replace regex is anchored: a partial match does nothing',
    input: { a: 'foobar' },
    rules: [{ sourceLabels: ['a'], regex: 'oo', targetLabel: 'b', replacement: 'hit' }],
    output: { a: 'foobar' },
  },
  {
    name: 'replace to an empty value deletes the target label',
    input: { a: 'foo', b: 'bar' },
    rules: [{ sourceLabels: ['a'], regex: 'f(x*)oo', targetLabel: 'b' }],
    output: { a: 'foo' },
  },
  {
    name: 'replace: $1x is the (absent) group named 1x, so empty',
    input: { a: 'foo' },
    rules: [{ sourceLabels: ['a'], regex: '(f)oo', targetLabel: 'b', replacement: '$1x-' }],
    output: { a: 'foo', b: '-' },
  },
  {
    name: 'replace: target label from a group, invalid names are skipped',
    input: { a: 'some-name', b: 'value' },
    rules: [
      { sourceLabels: ['a'], regex: '(.*)', targetLabel: 'x_$1', replacement: 'v' },
      { sourceLabels: ['b'], regex: '(v)alue', targetLabel: 'n_$1', replacement: '$$$1' },
    ],
    output: { a: 'some-name', b: 'value', n_v: '$v' },
  },
  {
    name: 'replace: named groups',
    input: { a: 'host:9100' },
    rules: [{ sourceLabels: ['a'], regex: '(?P<h>[^:]+):(?P<p>\\d+)', targetLabel: 'port', replacement: '${p}' }],
    output: { a: 'host:9100', port: '9100' },
  },
  {
    name: 'replace from a missing label matches the empty string',
    input: { a: 'foo' },
    rules: [{ sourceLabels: ['missing'], targetLabel: 'b', replacement: 'set' }],
    output: { a: 'foo', b: 'set' },
  },
  {
    name: 'keep keeps on a match',
    input: { a: 'foo' },
    rules: [{ sourceLabels: ['a'], regex: 'f.*', action: 'keep' }],
    output: { a: 'foo' },
  },
  {
    name: 'keep drops on no match (anchored)',
    input: { a: 'foo' },
    rules: [{ sourceLabels: ['a'], regex: 'o', action: 'keep' }],
    output: undefined,
  },
  {
    name: 'drop drops on a match',
    input: { __name__: 'go_gc_duration_seconds', a: 'x' },
    rules: [{ sourceLabels: ['__name__'], regex: 'go_.*', action: 'drop' }],
    output: undefined,
  },
  {
    name: 'drop keeps when nothing matches',
    input: { __name__: 'up', a: 'x' },
    rules: [{ sourceLabels: ['__name__'], regex: 'go_.*', action: 'drop' }],
    output: { __name__: 'up', a: 'x' },
  },
  {
    name: 'labelmap copies matching names with the replacement',
    input: { __meta_team: 'db', __meta_zone: 'eu', a: 'x' },
    rules: [{ regex: '__meta_(.+)', action: 'labelmap' }],
    output: { __meta_team: 'db', __meta_zone: 'eu', a: 'x', team: 'db', zone: 'eu' },
  },
  {
    name: 'labelmap with a custom replacement',
    input: { foo: '1', bar: '2' },
    rules: [{ regex: '(f.*)', action: 'labelmap', replacement: 'my_$1' }],
    output: { foo: '1', bar: '2', my_foo: '1' },
  },
  {
    name: 'labeldrop removes matching names only (anchored)',
    input: { abc: '1', ab: '2', xabc: '3' },
    rules: [{ regex: 'ab.*', action: 'labeldrop' }],
    output: { xabc: '3' },
  },
  {
    name: 'labelkeep keeps matching names only',
    input: { __name__: 'm', a: '1', b: '2' },
    rules: [{ regex: '__name__|a', action: 'labelkeep' }],
    output: { __name__: 'm', a: '1' },
  },
  {
    name: 'rules apply in order: a later rule sees an earlier result',
    input: { a: 'foo' },
    rules: [
      { sourceLabels: ['a'], targetLabel: 'b', replacement: 'bar' },
      { sourceLabels: ['b'], regex: 'bar', action: 'drop' },
    ],
    output: undefined,
  },
];

describe('agent relabelling', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const got = relabel(L(c.input), c.rules.map(relabelRule));
      expect(got).to.deep.equal(c.output === undefined ? undefined : L(c.output));
    });
  }

  it('rejects rules Prometheus rejects', () => {
    expect(() => relabelRule({ action: 'replace', sourceLabels: ['a'] })).to.throw(/target_label/);
    expect(() => relabelRule({ action: 'nosuch' as RelabelRule['action'] })).to.throw(/unknown action/);
    expect(() => relabelRule({ action: 'labelmap', regex: '(.*)', replacement: 'bad-name' })).to.throw(/labelmap/);
    expect(() => relabelRule({ regex: '(', targetLabel: 'x' })).to.throw(/regular expression/);
  });
});
