import { setFlagsFromString } from 'node:v8';
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

/*
 * JavaScript regexes backtrack: `(a+)+b` against a long value would block the process for
 * minutes, where Prometheus's RE2 stays linear. V8 can switch a regex to its linear-time engine
 * once it has backtracked too often, but only for regexes compiled without the `u` flag.
 */
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The same pattern compiled without the `u` flag, which matches exactly like the unicode one on
 * values without surrogates as long as the pattern itself needs nothing unicode-only (\p{..},
 * \u{..}, characters outside the BMP); undefined when it does.
 */
function codeUnitRegex(source: string): RegExp | undefined {
  if (SURROGATE.test(source) || /\\[pP]\{|\\u\{/.test(source)) return undefined;
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}

/** An anchored regex test whose worst case on ordinary (BMP) values is linear, not exponential. */
function regexTester(pattern: string): (value: string) => boolean {
  const unicode = compileRegex(pattern);
  const plain = codeUnitRegex(unicode.source);
  if (plain === undefined) return (v) => unicode.test(v);
  return (v) => (SURROGATE.test(v) ? unicode : plain).test(v);
}

export function compileMatcher(m: Matcher): CompiledMatcher {
  switch (m.type) {
    case '=':
      return { ...m, matches: (v) => v === m.value };
    case '!=':
      return { ...m, matches: (v) => v !== m.value };
    case '=~': {
      const test = regexTester(m.value);
      return { ...m, matches: (v) => test(v) };
    }
    case '!~': {
      const test = regexTester(m.value);
      return { ...m, matches: (v) => !test(v) };
    }
  }
}

export function matchesAll(matchers: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.matches(getLabel(labels, m.name) ?? '')) return false;
  return true;
}
