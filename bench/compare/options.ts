/** Command-line options of `npm run bench`. */
import type { DatasetSize } from './dataset.js';

export type SystemName = 'metricstor' | 'victoriametrics' | 'prometheus';
const SYSTEM_NAMES: readonly SystemName[] = ['metricstor', 'victoriametrics', 'prometheus'];

export interface BenchOptions {
  readonly sizes: readonly DatasetSize[];
  readonly systems: readonly SystemName[];
  readonly concurrencies: readonly number[];
  /** Metricstor head policies to ingest with; the first one also serves the query phase. */
  readonly heads: readonly ('buffered' | 'write-through')[];
  readonly queries: boolean;
  readonly queryReps: number;
  /** At sizes other than the main one, every n-th query of the list only. */
  readonly scalingQueryStride: number;
  /** Every concurrency and head policy at every size, not only at the main one. */
  readonly fullScaling: boolean;
  /** The FlareDB run's size, or null to skip it. */
  readonly flaredb: DatasetSize | null;
  readonly write: boolean;
  readonly quick: boolean;
}

export const USAGE = `npm run bench -- [--hosts=50,200,800] [--hours=6,6,1] [--systems=metricstor,victoriametrics,prometheus]
  [--concurrency=4,16] [--heads=buffered,write-through] [--query-reps=1] [--no-queries]
  [--scaling-query-stride=8] [--full-scaling] [--flaredb=HOSTSxHOURS | --no-flaredb] [--quick] [--no-write]
--hours takes one value for every size or one per size. The main size is the middle one: it gets
every concurrency and head policy and the whole query list; the other sizes get the highest
concurrency, the first head policy and every n-th query (--scaling-query-stride), unless --full-scaling.`;

const DEFAULT_SIZES: readonly DatasetSize[] = [
  { hosts: 50, hours: 6 },
  { hosts: 200, hours: 6 },
  // Four times the series of the main size in less time, so the whole run stays within about 40 minutes.
  { hosts: 800, hours: 1 },
];
const QUICK_SIZES: readonly DatasetSize[] = [{ hosts: 4, hours: 0.25 }];

function numbers(flag: string, text: string): number[] {
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !(n > 0))) throw new Error(`${flag} wants positive numbers separated by commas, got ${JSON.stringify(text)}`);
  return out;
}

function size(text: string): DatasetSize {
  const m = /^(\d+)x([\d.]+)$/.exec(text);
  if (m === null) throw new Error(`--flaredb wants HOSTSxHOURS such as 50x1, got ${JSON.stringify(text)}`);
  return { hosts: Number(m[1]), hours: Number(m[2]) };
}

export function parseOptions(args: readonly string[]): BenchOptions {
  const values = new Map<string, string>();
  for (const arg of args) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    values.set(m[1]!, m[2] ?? '');
  }
  const known = new Set(['hosts', 'hours', 'systems', 'concurrency', 'heads', 'query-reps', 'scaling-query-stride', 'full-scaling', 'no-queries', 'flaredb', 'no-flaredb', 'quick', 'no-write', 'help']);
  for (const k of values.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k}\n${USAGE}`);
  if (values.has('help')) throw new Error(USAGE);
  const quick = values.has('quick');
  let sizes = quick ? QUICK_SIZES : DEFAULT_SIZES;
  const hostsText = values.get('hosts');
  const hoursText = values.get('hours');
  if (hostsText !== undefined || hoursText !== undefined) {
    const hosts = hostsText === undefined ? sizes.map((s) => s.hosts) : numbers('--hosts', hostsText);
    const hours = hoursText === undefined ? (hostsText === undefined ? sizes.map((s) => s.hours) : hosts.map((_, i) => sizes[i]?.hours ?? sizes[sizes.length - 1]!.hours)) : numbers('--hours', hoursText);
    if (hours.length !== 1 && hours.length !== hosts.length) throw new Error('--hours takes one value or one per --hosts value');
    sizes = hosts.map((h, i) => ({ hosts: h, hours: hours.length === 1 ? hours[0]! : hours[i]! }));
  }
  const systems = (values.get('systems') ?? SYSTEM_NAMES.join(',')).split(',').map((s) => s.trim());
  for (const s of systems) if (!SYSTEM_NAMES.includes(s as SystemName)) throw new Error(`--systems: unknown system ${JSON.stringify(s)}`);
  const concurrencies = numbers('--concurrency', values.get('concurrency') ?? '4,16');
  const heads = (values.get('heads') ?? 'buffered,write-through').split(',').map((h) => {
    if (h !== 'buffered' && h !== 'write-through') throw new Error(`--heads: unknown head policy ${JSON.stringify(h)}`);
    return h;
  });
  const flaredb = values.has('no-flaredb') ? null : values.has('flaredb') ? size(values.get('flaredb')!) : quick ? { hosts: 2, hours: 0.25 } : { hosts: 50, hours: 1 };
  return {
    sizes,
    systems: systems as SystemName[],
    concurrencies,
    heads,
    queries: !values.has('no-queries'),
    queryReps: values.has('query-reps') ? numbers('--query-reps', values.get('query-reps')!)[0]! : 1,
    scalingQueryStride: values.has('scaling-query-stride') ? numbers('--scaling-query-stride', values.get('scaling-query-stride')!)[0]! : 8,
    fullScaling: values.has('full-scaling'),
    flaredb,
    write: !values.has('no-write'),
    quick,
  };
}
