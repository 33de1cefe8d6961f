/**
 * Translates RE2 syntax (what Prometheus accepts in regex matchers) into an equivalent
 * JavaScript RegExp source for the parts JavaScript lacks: scoped flag groups `(?i)` and
 * `(?i:...)` (case folding is spelled out per letter), `(?s)`, `(?P<name>...)`, `\A`, `\z`,
 * `\Q...\E`, `\pL`, and POSIX classes such as `[[:alpha:]]`.
 */

interface Flags {
  readonly i: boolean;
  readonly s: boolean;
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

function bothCases(ch: string): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  if (lower === upper || lower.length !== 1 || upper.length !== 1) return '';
  return ch === lower ? upper : lower;
}

/** Escapes a character for use outside a class (the `u` flag allows only syntax characters). */
function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

function escapeInClass(ch: string): string {
  return /[\\^\]\[-]/.test(ch) ? `\\${ch}` : ch;
}

function parseFlags(text: string, current: Flags): Flags | null {
  let on = true;
  let { i, s } = current;
  for (const f of text) {
    if (f === '-') on = false;
    else if (f === 'i') i = on;
    else if (f === 's') s = on;
    else if (f === 'm' || f === 'U') continue;
    else return null;
  }
  return { i, s };
}

/** Returns JavaScript RegExp source (use with the `u` flag) equivalent to the RE2 pattern. */
export function translateRe2(pattern: string): string {
  let out = '';
  const stack: Flags[] = [];
  let flags: Flags = { i: false, s: false };
  let i = 0;
  const n = pattern.length;
  const literal = (ch: string): string => {
    const other = flags.i ? bothCases(ch) : '';
    return other === '' ? escapeLiteral(ch) : `[${ch}${other}]`;
  };
  while (i < n) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const text = pattern.slice(i + 2, end < 0 ? n : end);
        for (const c of text) out += literal(c);
        i = end < 0 ? n : end + 2;
        continue;
      }
      if (next === 'A') out += '^';
      else if (next === 'z') out += '$';
      else if ((next === 'p' || next === 'P') && pattern[i + 2] !== '{') {
        out += `\\${next}{${pattern[i + 2] ?? ''}}`;
        i += 3;
        continue;
      } else if (/[a-zA-Z0-9]/.test(next)) out += `\\${next}`;
      else out += literal(next);
      i += 2;
      continue;
    }
    if (ch === '[') {
      const [cls, end] = translateClass(pattern, i, flags.i);
      out += cls;
      i = end;
      continue;
    }
    if (ch === '(') {
      if (pattern.startsWith('(?P<', i)) {
        stack.push(flags);
        out += '(?<';
        i += 4;
        continue;
      }
      const flagGroup = /^\(\?([a-zA-Z-]*)(:|\))/.exec(pattern.slice(i));
      if (flagGroup && pattern[i + 2] !== '<' && pattern[i + 2] !== '=' && pattern[i + 2] !== '!') {
        const parsed = parseFlags(flagGroup[1]!, flags);
        if (parsed === null) throw new SyntaxError(`invalid or unsupported Perl syntax: ${flagGroup[0]}`);
        if (flagGroup[2] === ')') {
          flags = parsed; // applies to the rest of the enclosing group
        } else {
          stack.push(flags);
          flags = parsed;
          out += '(?:';
        }
        i += flagGroup[0].length;
        continue;
      }
      stack.push(flags);
      out += '(';
      i++;
      continue;
    }
    if (ch === ')') {
      flags = stack.pop() ?? flags;
      out += ')';
      i++;
      continue;
    }
    if (ch === '.') {
      out += flags.s ? '[\\s\\S]' : '.';
      i++;
      continue;
    }
    if (/[a-zA-Z]/.test(ch) || bothCases(ch) !== '') {
      out += literal(ch);
      i++;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** Translates the character class starting at pattern[start] === '['; returns it and the end index. */
function translateClass(pattern: string, start: number, foldCase: boolean): [string, number] {
  let i = start + 1;
  let out = '[';
  if (pattern[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  const extra: string[] = [];
  while (i < pattern.length && (pattern[i] !== ']' || first)) {
    first = false;
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
    if (posix && POSIX_CLASSES[posix[2]!] !== undefined && posix[1] === '') {
      out += POSIX_CLASSES[posix[2]!];
      i += posix[0].length;
      continue;
    }
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if ((next === 'p' || next === 'P') && pattern[i + 2] !== '{') {
        out += `\\${next}{${pattern[i + 2] ?? ''}}`;
        i += 3;
      } else {
        out += /[a-zA-Z0-9]/.test(next) ? `\\${next}` : escapeInClass(next);
        i += 2;
      }
      continue;
    }
    if (pattern[i + 1] === '-' && pattern[i + 2] !== undefined && pattern[i + 2] !== ']') {
      const to = pattern[i + 2]!;
      out += `${escapeInClass(ch)}-${escapeInClass(to)}`;
      if (foldCase) {
        const a = bothCases(ch);
        const b = bothCases(to);
        if (a !== '' && b !== '') extra.push(`${a}-${b}`);
      }
      i += 3;
      continue;
    }
    out += ch === '[' ? '\\[' : escapeInClass(ch);
    if (foldCase) extra.push(bothCases(ch));
    i++;
  }
  if (pattern[i] !== ']') throw new SyntaxError('missing closing ]');
  return [`${out}${extra.join('')}]`, i + 1];
}
