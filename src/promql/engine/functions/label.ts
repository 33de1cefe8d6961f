import type { Labels } from '../../../model/labels.js';
import { getLabel, isValidLabelName } from '../../../model/labels.js';
import { compileRegex } from '../../../model/matchers.js';
import { executionError } from '../errors.js';
import type { EvalValue, StepSeries } from '../values.js';
import { StepOutput, withLabel } from '../values.js';
import { stringArg, vectorArg } from './common.js';
import type { InstantCall, InstantFunction } from './types.js';

/** Re-labels every series once and copies its values (duplicate label sets are an error). */
function relabel(input: readonly StepSeries[], steps: number, f: (labels: Labels) => Labels): EvalValue {
  const out = new StepOutput(steps);
  for (const s of input) {
    const labels = f(s.labels);
    for (let step = 0; step < steps; step++) {
      if (s.present[step] === 1) out.add(labels, step, s.values[step]!);
    }
  }
  return { type: 'vector', series: out.series() };
}

/** Go's Regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$. */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch !== '$' || i + 1 >= template.length) {
      out += ch;
      continue;
    }
    const next = template[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | null = null;
    let end = i + 1;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^[A-Za-z0-9_]+$/.test(inner)) {
        name = inner;
        end = close + 1;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + 1 + m[0].length;
      }
    }
    if (name === null) {
      out += '$';
      continue;
    }
    if (/^[0-9]+$/.test(name)) out += match[Number(name)] ?? '';
    else out += match.groups?.[name] ?? '';
    i = end - 1;
  }
  return out;
}

function labelReplace({ args, grid }: InstantCall): EvalValue {
  const dst = stringArg(args[1]);
  const replacement = stringArg(args[2]);
  const src = stringArg(args[3]);
  const pattern = stringArg(args[4]);
  let re: RegExp;
  try {
    re = compileRegex(pattern.replaceAll('(?P<', '(?<'));
  } catch {
    throw executionError(`invalid regular expression in label_replace(): ${pattern}`);
  }
  if (!isValidLabelName(dst)) {
    throw executionError(`invalid destination label name in label_replace(): ${dst}`);
  }
  return relabel(vectorArg(args[0]), grid.steps, (labels) => {
    const match = re.exec(getLabel(labels, src) ?? '');
    if (match === null) return labels;
    return withLabel(labels, dst, expandTemplate(replacement, match));
  });
}

function labelJoin({ args, grid }: InstantCall): EvalValue {
  const dst = stringArg(args[1]);
  const separator = stringArg(args[2]);
  const sources = args.slice(3).map((a) => stringArg(a));
  for (const src of sources) {
    if (!isValidLabelName(src)) throw executionError(`invalid source label name in label_join(): ${src}`);
  }
  if (!isValidLabelName(dst)) throw executionError(`invalid destination label name in label_join(): ${dst}`);
  return relabel(vectorArg(args[0]), grid.steps, (labels) =>
    withLabel(labels, dst, sources.map((s) => getLabel(labels, s) ?? '').join(separator)),
  );
}

export const LABEL_FUNCTIONS: Readonly<Record<string, InstantFunction>> = {
  label_replace: { kind: 'instant', apply: labelReplace },
  label_join: { kind: 'instant', apply: labelJoin },
};
