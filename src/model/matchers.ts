import { badData } from '../errors.js';
import type { Labels } from './labels.js';
import { getLabel } from './labels.js';
import { translateRe2 } from './re2.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher as written in PromQL; regexes are fully anchored when compiled. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
}

export interface CompiledMatcher extends Matcher {
  /** True when the label value (the empty string for an absent label) matches. */
  matches(value: string): boolean;
}

/**
 * Translates an RE2 pattern as Prometheus accepts it into an anchored JavaScript RegExp.
 * RE2-only syntax (scoped flags, \z, \Q..\E, POSIX classes) is translated by translateRe2.
 */
export function compileRegex(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${translateRe2(pattern)})$`, 'u');
  } catch (err) {
    throw badData(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

export function compileMatcher(m: Matcher): CompiledMatcher {
  switch (m.type) {
    case '=':
      return { ...m, matches: (v) => v === m.value };
    case '!=':
      return { ...m, matches: (v) => v !== m.value };
    case '=~': {
      const re = compileRegex(m.value);
      return { ...m, matches: (v) => re.test(v) };
    }
    case '!~': {
      const re = compileRegex(m.value);
      return { ...m, matches: (v) => !re.test(v) };
    }
  }
}

export function matchesAll(matchers: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.matches(getLabel(labels, m.name) ?? '')) return false;
  return true;
}
