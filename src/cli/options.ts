/** `--name value` / `--name=value` options of the client commands, and their positional arguments. */
export interface ParsedArgs {
  readonly positional: string[];
  readonly options: Map<string, string>;
}

export class UsageError extends Error {}

export function parseOptions(args: readonly string[], known: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg : arg.slice(0, eq)).slice(2);
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
    let value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      i++;
    }
    options.set(name, value);
  }
  return { positional, options };
}

export const DEFAULT_URL = 'http://127.0.0.1:9101';

/** The server URL without a trailing slash. */
export function serverUrl(options: Map<string, string>): string {
  return (options.get('url') ?? process.env['METRICSTOR_URL'] ?? DEFAULT_URL).replace(/\/+$/, '');
}
