import type { Label } from '../../../src/model/labels.js';
import { sortLabels } from '../../../src/model/labels.js';
import { setStaleAt } from '../../../src/model/value.js';
import { PromqlEngine } from '../../../src/promql/engine/engine.js';
import type { EngineLimits } from '../../../src/promql/types.js';
import { MemoryQueryable } from '../../../src/promql/testing/memory-queryable.js';

export function labels(name: string, extra: Record<string, string> = {}): Label[] {
  return sortLabels([{ name: '__name__', value: name }, ...Object.entries(extra).map(([n, value]) => ({ name: n, value }))]);
}

/** Values with 'stale' for a staleness marker. */
export function values(...vs: (number | 'stale')[]): Float64Array {
  const out = new Float64Array(vs.length);
  vs.forEach((v, i) => (v === 'stale' ? setStaleAt(out, i) : (out[i] = v)));
  return out;
}

export function engineOver(storage: MemoryQueryable, limits: Partial<EngineLimits> = {}): PromqlEngine {
  return new PromqlEngine(storage, {
    parse: () => {
      throw new Error('these tests build ASTs directly');
    },
    limits,
  });
}

export const SEC = 1000;
export const MIN = 60_000;
