import { expect } from 'chai';
import fc from 'fast-check';
import { MetricstorError } from '../../src/errors.js';
import { parseExposition } from '../../src/ingest/exposition/parse.js';
import { bitsAt, labelsOf } from './fixtures.js';

function parseError(text: string, format: 'prometheus' | 'openmetrics'): string {
  try {
    parseExposition(text, format);
  } catch (err) {
    expect((err as MetricstorError).type).to.equal('bad_data');
    return (err as Error).message;
  }
  expect.fail('expected a syntax error');
}

describe('ingest: exposition parser, text format 0.0.4', () => {
  it('reads samples, labels with escapes, timestamps, special values and metadata', () => {
    const text = [
      '# HELP http_requests_total The total number\\nof requests \\\\ handled.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400",} 3 1395066363000',
      '',
      '# A free comment is ignored',
      '  msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
      'neg_inf -Inf',
      'not_a_number NaN',
      '# TYPE rpc_duration_seconds summary',
      'rpc_duration_seconds{quantile="0.5"} 4773',
      'rpc_duration_seconds_count 2693\r',
      'odd_escape{a="x\\qy"}\t\t2   ',
    ].join('\n');
    const p = parseExposition(text, 'prometheus');
    expect(p.samples).to.have.length(10);
    expect(p.samples[0]!.labels).to.deep.equal(labelsOf({ __name__: 'http_requests_total', method: 'post', code: '200' }));
    expect(p.samples[0]!.timestampMs).to.equal(1395066363000);
    expect(p.samples[0]!.line).to.equal(3);
    expect(p.samples[1]!.labels).to.have.length(3);
    expect(p.samples[2]!.labels).to.deep.equal(
      labelsOf({ __name__: 'msdos_file_access_time_seconds', path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' }),
    );
    expect(p.samples[3]!.timestampMs).to.equal(undefined);
    expect(Array.from(p.values.subarray(0, 6))).to.deep.equal([1027, 3, 1.458255915e9, 12.47, Infinity, -Infinity]);
    expect(p.samples[4]!.timestampMs).to.equal(-3982045);
    // NaN from text is Prometheus's ordinary NaN, never the staleness marker
    expect(bitsAt(p.values, 6)).to.deep.equal([0x7ff80000, 0x00000001]);
    expect(p.samples[9]!.labels[1]).to.deep.equal({ name: 'a', value: 'x\\qy' });
    expect(p.values[9]).to.equal(2);
    expect(p.metadata).to.deep.equal([
      { metricFamilyName: 'http_requests_total', type: 'counter', help: 'The total number\nof requests \\ handled.', unit: '' },
      { metricFamilyName: 'rpc_duration_seconds', type: 'summary', help: '', unit: '' },
    ]);
  });

  const errors: [string, string, RegExp][] = [
    ['a missing value', 'ok 1\nfoo\n', /^line 2: expected a value/],
    ['a bad value', 'foo abc\n', /^line 1: invalid value "abc"/],
    ['a float timestamp', 'foo 1 1.5\n', /^line 1: invalid timestamp "1.5"/],
    ['an unterminated label value', 'ok 1\n\nfoo{a="b} 1\n', /^line 3: unterminated value of label "a"/],
    ['a label without quotes', 'foo{a=b} 1', /^line 1: expected a quoted value for label "a"/],
    ['an invalid metric name', '0foo 1', /^line 1: expected a metric name/],
    ['an unknown type', '# TYPE foo bar\n', /^line 1: invalid metric type "bar"/],
    ['a type named like an object property', '# TYPE foo constructor\n', /^line 1: invalid metric type "constructor"/],
    ['trailing garbage', 'foo 1 2 3\n', /^line 1: unexpected "3" after the timestamp/],
    ['a timestamp beyond safe integers', 'foo 1 99999999999999999999\n', /out of range/],
  ];
  for (const [name, text, message] of errors) {
    it(`reports ${name} with its line number`, () => {
      expect(parseError(text, 'prometheus')).to.match(message);
    });
  }
});

describe('ingest: exposition parser, OpenMetrics', () => {
  it('reads families with UNIT, _total/_created samples, float-second timestamps and exemplars', () => {
    const text = [
      '# TYPE acme_http_router_request_seconds summary',
      '# UNIT acme_http_router_request_seconds seconds',
      '# HELP acme_http_router_request_seconds Latency though all of ACME\'s global \\"router\\".',
      'acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32 1520879607.789',
      'acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0',
      'acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0',
      '# TYPE foo counter',
      'foo_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67',
      'foo_created 1520430000.123',
      '# TYPE info_metric info',
      'info_metric_info{version="1.2"} 1',
      '# EOF',
    ].join('\n') + '\n';
    const p = parseExposition(text, 'openmetrics');
    expect(p.samples.map((s) => s.labels[0]!.value)).to.deep.equal([
      'acme_http_router_request_seconds_sum',
      'acme_http_router_request_seconds_count',
      'acme_http_router_request_seconds_created',
      'foo_total',
      'foo_created',
      'info_metric_info',
    ]);
    expect(p.samples[0]!.timestampMs).to.equal(1520879607789);
    expect(p.samples[3]!.timestampMs).to.equal(1520879607789);
    expect(p.values[3]).to.equal(17);
    expect(p.values[4]).to.equal(1520430000.123);
    expect(p.metadata).to.deep.equal([
      {
        metricFamilyName: 'acme_http_router_request_seconds',
        type: 'summary',
        help: 'Latency though all of ACME\'s global "router".',
        unit: 'seconds',
      },
      { metricFamilyName: 'foo', type: 'counter', help: '', unit: '' },
      { metricFamilyName: 'info_metric', type: 'info', help: '', unit: '' },
    ]);
  });

  const errors: [string, string, RegExp][] = [
    ['a missing # EOF', 'foo 1\nbar 2\n', /^line 2: data does not end with # EOF/],
    ['data after # EOF', 'foo 1\n# EOF\nbar 2\n', /^line 3: unexpected data after # EOF/],
    ['a free comment', '# hello\n# EOF\n', /^line 1: invalid comment/],
    ['a unit that is not a suffix', '# UNIT foo seconds\n# EOF\n', /^line 1: unit "seconds" is not a suffix/],
    ['two spaces before a value', 'foo  1\n# EOF\n', /^line 1: expected the value after a single space/],
    ['a NaN timestamp', 'foo 1 NaN\n# EOF\n', /^line 1: invalid timestamp/],
    ['an empty line', 'foo 1\n\n# EOF\n', /^line 2: empty lines are not allowed/],
    ['a broken exemplar', 'foo_total 1 # trace\n# EOF\n', /^line 1: expected an exemplar label set/],
    ['a type named like an object property', '# TYPE foo toString\n# EOF\n', /^line 1: invalid metric type "toString"/],
  ];
  for (const [name, text, message] of errors) {
    it(`reports ${name} with its line number`, () => {
      expect(parseError(text, 'openmetrics')).to.match(message);
    });
  }
});

describe('ingest: exposition parser on arbitrary input', () => {
  it('returns a result or a bad_data naming a line, for any text in either format', () => {
    const pieces = fc.constantFrom('# HELP ', '# TYPE ', '# UNIT ', '# EOF', 'm', '_total', '{', '}', '="', '"', ',', ' ', '\t', '\n', '\\', '1', '-Inf', 'NaN', '1.5e3', ' # {a="b"} 1');
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string({ maxLength: 4 })), { maxLength: 30 }), fc.constantFrom('prometheus', 'openmetrics'), (parts, format) => {
        try {
          const p = parseExposition(parts.join(''), format as 'prometheus' | 'openmetrics');
          return p.values.length === p.samples.length;
        } catch (err) {
          return err instanceof MetricstorError && err.type === 'bad_data' && /^line \d+: /.test(err.message);
        }
      }),
      { numRuns: 3000, seed: 5 },
    );
  });
});
