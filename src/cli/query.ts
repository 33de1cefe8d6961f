import { formatMatrix, formatTime, formatVector, type MatrixSeries, type VectorSample } from './format.js';
import { parseOptions, serverUrl, UsageError } from './options.js';
import { parseStepSeconds, parseTimeSeconds } from './time.js';

/** Points a range query aims for when --step is not given. */
const DEFAULT_POINTS = 250;

interface Envelope {
  readonly status?: unknown;
  readonly errorType?: unknown;
  readonly error?: unknown;
  readonly data?: { readonly resultType?: unknown; readonly result?: unknown };
  readonly warnings?: unknown;
}

/** `metricstor query EXPR [--time T] [--start S --end E [--step D]] [--url URL]`; resolves to the exit code. */
export async function queryCommand(args: readonly string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { positional, options } = parseOptions(args, ['time', 'start', 'end', 'step', 'url']);
  if (positional.length !== 1) throw new UsageError('query needs exactly one expression');
  const nowMs = Date.now();
  const params = new URLSearchParams({ query: positional[0]! });
  const range = options.has('start') || options.has('end') || options.has('step');
  let path = '/api/v1/query';
  if (range) {
    if (options.has('time')) throw new UsageError('--time is for instant queries; a range query takes --start, --end and --step');
    const start = parseTimeSeconds(options.get('start') ?? 'now-1h', nowMs);
    const end = parseTimeSeconds(options.get('end') ?? 'now', nowMs);
    if (end < start) throw new UsageError('--end is before --start');
    const stepText = options.get('step');
    const step = stepText === undefined ? Math.max(1, Math.ceil((end - start) / DEFAULT_POINTS)) : parseStepSeconds(stepText);
    params.set('start', String(start));
    params.set('end', String(end));
    params.set('step', String(step));
    path = '/api/v1/query_range';
  } else {
    params.set('time', String(parseTimeSeconds(options.get('time') ?? 'now', nowMs)));
  }
  const url = `${serverUrl(options)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: params, signal: AbortSignal.timeout(130_000) });
  } catch (e) {
    err(`metricstor: cannot reach ${url}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}\n`);
    return 1;
  }
  const text = await res.text();
  let body: Envelope;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    err(`metricstor: HTTP ${res.status} from ${url}: ${text.slice(0, 500)}\n`);
    return 1;
  }
  if (body.status !== 'success') {
    err(`metricstor: ${String(body.errorType ?? `HTTP ${res.status}`)}: ${String(body.error ?? text)}\n`);
    return 1;
  }
  if (Array.isArray(body.warnings)) for (const w of body.warnings) err(`warning: ${String(w)}\n`);
  out(render(body.data?.resultType, body.data?.result));
  return 0;
}

function render(resultType: unknown, result: unknown): string {
  switch (resultType) {
    case 'vector':
      return formatVector(result as VectorSample[]);
    case 'matrix':
      return formatMatrix(result as MatrixSeries[]);
    case 'scalar':
    case 'string': {
      const [t, v] = result as [number, string];
      return `${v}  (${resultType} at ${formatTime(t)})\n`;
    }
    default:
      return `${JSON.stringify(result)}\n`;
  }
}
