/**
 * Relabelling as Prometheus 2.42 applies it to targets (relabel_configs) and to scraped samples
 * (metric_relabel_configs): each rule in turn rewrites a label set, or drops it (result undefined).
 */
import { badData } from '../errors.js';
import { isValidLabelName, sortLabels, type Label, type Labels } from '../model/labels.js';
import { compileRegex } from '../model/matchers.js';

export type RelabelAction = 'replace' | 'keep' | 'drop' | 'labelmap' | 'labeldrop' | 'labelkeep' | 'lowercase' | 'uppercase';

const ACTIONS: ReadonlySet<string> = new Set(['replace', 'keep', 'drop', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase']);

/** One rule as written in YAML, after defaults: separator ";", regex "(.*)", replacement "$1", action replace. */
export interface RelabelRule {
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** As written; matched fully anchored. */
  readonly regex: string;
  readonly targetLabel: string;
  readonly replacement: string;
  readonly action: RelabelAction;
}

export interface CompiledRelabelRule extends RelabelRule {
  readonly re: RegExp;
}

/** Fills Prometheus's defaults into a rule read from YAML and checks it as Prometheus does. */
export function relabelRule(raw: Partial<RelabelRule>): CompiledRelabelRule {
  const action = (raw.action ?? 'replace').toLowerCase();
  if (!ACTIONS.has(action)) throw badData(`relabel: unknown action ${JSON.stringify(raw.action)}`);
  const rule: RelabelRule = {
    sourceLabels: raw.sourceLabels ?? [],
    separator: raw.separator ?? ';',
    regex: raw.regex ?? '(.*)',
    targetLabel: raw.targetLabel ?? '',
    replacement: raw.replacement ?? '$1',
    action: action as RelabelAction,
  };
  if ((rule.action === 'replace' || rule.action === 'lowercase' || rule.action === 'uppercase') && rule.targetLabel === '') {
    throw badData(`relabel: action ${rule.action} needs target_label`);
  }
  if ((rule.action === 'lowercase' || rule.action === 'uppercase') && !isValidLabelName(rule.targetLabel)) {
    throw badData(`relabel: ${JSON.stringify(rule.targetLabel)} is not a valid label name`);
  }
  if (rule.action === 'replace' && !/^(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+(?:[a-zA-Z0-9_]|\$(?:\{\w+\}|\w+))*$/.test(rule.targetLabel)) {
    throw badData(`relabel: ${JSON.stringify(rule.targetLabel)} is not a valid target label`);
  }
  if (rule.action === 'labelmap' && !/^(?:[a-zA-Z0-9_]|\$(?:\{\w+\}|\w+))+$/.test(rule.replacement)) {
    throw badData(`relabel: ${JSON.stringify(rule.replacement)} is not a valid labelmap replacement`);
  }
  if ((rule.action === 'labeldrop' || rule.action === 'labelkeep') && (rule.sourceLabels.length > 0 || raw.targetLabel !== undefined)) {
    throw badData(`relabel: ${rule.action} takes only regex`);
  }
  return { ...rule, re: compileRegex(rule.regex) };
}

/** Applies the rules in order. Returns the new sorted label set, or undefined when a rule dropped it. */
export function relabel(labels: Labels, rules: readonly CompiledRelabelRule[]): Label[] | undefined {
  const set = new Map<string, string>();
  for (const l of labels) set.set(l.name, l.value);
  for (const rule of rules) {
    if (!applyRule(set, rule)) return undefined;
  }
  const out: Label[] = [];
  for (const [name, value] of set) if (value !== '') out.push({ name, value });
  return sortLabels(out);
}

function applyRule(set: Map<string, string>, rule: CompiledRelabelRule): boolean {
  const value = rule.sourceLabels.map((n) => set.get(n) ?? '').join(rule.separator);
  switch (rule.action) {
    case 'keep':
      return rule.re.test(value);
    case 'drop':
      return !rule.re.test(value);
    case 'replace': {
      const m = rule.re.exec(value);
      if (m === null) return true;
      const target = expandTemplate(rule.targetLabel, m);
      if (!isValidLabelName(target)) return true;
      const res = expandTemplate(rule.replacement, m);
      if (res === '') set.delete(target);
      else set.set(target, res);
      return true;
    }
    case 'lowercase':
      set.set(rule.targetLabel, value.toLowerCase());
      return true;
    case 'uppercase':
      set.set(rule.targetLabel, value.toUpperCase());
      return true;
    case 'labelmap':
      for (const [name, v] of [...set]) {
        const m = rule.re.exec(name);
        if (m !== null) set.set(expandTemplate(rule.replacement, m), v);
      }
      return true;
    case 'labeldrop':
      for (const name of [...set.keys()]) if (rule.re.test(name)) set.delete(name);
      return true;
    case 'labelkeep':
      for (const name of [...set.keys()]) if (!rule.re.test(name)) set.delete(name);
      return true;
  }
}

const NAME_CHAR = /[a-zA-Z0-9_]/;

/**
 * Go's Regexp.ExpandString: `$1`, `${1}`, `$name`, `${name}` take a group (empty when absent; a
 * bare name runs as far as letters, digits and underscores go, so `$1x` is the group named "1x"),
 * `$$` is a dollar, and a `$` starting no valid reference stays as it is.
 */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    let j = brace ? i + 1 : i;
    const nameStart = j;
    while (j < template.length && NAME_CHAR.test(template[j]!)) j++;
    const name = template.slice(nameStart, j);
    if (name === '' || (brace && template[j] !== '}')) {
      out += '$';
      continue;
    }
    i = brace ? j + 1 : j;
    out += groupValue(match, name);
  }
  return out + template.slice(i);
}

function groupValue(match: RegExpExecArray, name: string): string {
  // Go takes a name of digits as a group number, unless it has a leading zero or is too long.
  if (/^(?:0|[1-9]\d{0,7})$/.test(name)) {
    const num = Number(name);
    return num < match.length ? (match[num] ?? '') : '';
  }
  return match.groups?.[name] ?? '';
}
