import { badData } from '../errors.js';

/** Splits "host:port" (or "[v6]:port") into its parts. */
export function parseHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw badData(`invalid address ${JSON.stringify(addr)}: want host:port`);
  return { host: m[1] ?? m[2] ?? '', port };
}
