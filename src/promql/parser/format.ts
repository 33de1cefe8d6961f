/**
 * Prints an expression the way Prometheus's Expr.String() does (the canonical one-line form
 * used by format_query). The walk keeps its own stack, so depth is no concern.
 */
import { METRIC_NAME } from '../../model/labels.js';
import type { AtModifier, Expr, VectorMatching, VectorSelector } from './ast.js';
import { goQuote } from './quote.js';
import { formatDuration, formatNumber } from './literals.js';

export function formatExpr(root: Expr): string {
  const out: string[] = [];
  const work: Array<Expr | string> = [root];
  /** Queues pieces to print in the order given. */
  const then = (...items: Array<Expr | string>): void => {
    for (let i = items.length - 1; i >= 0; i--) work.push(items[i]!);
  };
  while (work.length > 0) {
    const item = work.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    switch (item.kind) {
      case 'NumberLiteral':
        out.push(formatNumber(item.value));
        break;
      case 'StringLiteral':
        out.push(goQuote(item.value));
        break;
      case 'VectorSelector':
        out.push(selectorText(item), atText(item.at), offsetText(item.offsetMs));
        break;
      case 'MatrixSelector': {
        const vs = item.vector;
        out.push(selectorText(vs), `[${formatDuration(item.rangeMs)}]`, atText(vs.at), offsetText(vs.offsetMs));
        break;
      }
      case 'SubqueryExpr': {
        const step = item.stepMs === 0 ? '' : formatDuration(item.stepMs);
        then(item.expr, `[${formatDuration(item.rangeMs)}:${step}]${atText(item.at)}${offsetText(item.offsetMs)}`);
        break;
      }
      case 'Call':
        then(`${item.func}(`, ...joined(item.args), ')');
        break;
      case 'AggregateExpr': {
        let head: string = item.op;
        if (item.without) head += ` without (${item.grouping.join(', ')}) `;
        else if (item.grouping.length > 0) head += ` by (${item.grouping.join(', ')}) `;
        if (item.param !== null) then(`${head}(`, item.param, ', ', item.expr, ')');
        else then(`${head}(`, item.expr, ')');
        break;
      }
      case 'BinaryExpr': {
        const bool = item.returnBool ? ' bool' : '';
        then(item.lhs, ` ${item.op}${bool}${matchingText(item.matching)} `, item.rhs);
        break;
      }
      case 'UnaryExpr':
        then(item.op, item.expr);
        break;
      case 'ParenExpr':
        then('(', item.expr, ')');
        break;
      case 'StepInvariantExpr':
        then(item.expr);
        break;
    }
  }
  return out.join('');
}

function joined(args: readonly Expr[]): Array<Expr | string> {
  const parts: Array<Expr | string> = [];
  args.forEach((a, i) => {
    if (i > 0) parts.push(', ');
    parts.push(a);
  });
  return parts;
}

/** `name{matchers}` without modifiers; the matcher for the written name is implied. */
function selectorText(vs: VectorSelector): string {
  const name = vs.name ?? '';
  const shown = vs.matchers
    .filter((m) => !(m.name === METRIC_NAME && m.type === '=' && m.value === vs.name))
    .map((m) => `${m.name}${m.type}${goQuote(m.value)}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return shown.length === 0 ? name : `${name}{${shown.join(',')}}`;
}

function atText(at: AtModifier | null): string {
  if (at === null) return '';
  if (at.kind === 'start') return ' @ start()';
  if (at.kind === 'end') return ' @ end()';
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function offsetText(offsetMs: number): string {
  if (offsetMs > 0) return ` offset ${formatDuration(offsetMs)}`;
  if (offsetMs < 0) return ` offset -${formatDuration(-offsetMs)}`;
  return '';
}

function matchingText(vm: VectorMatching | null): string {
  const grouped = vm !== null && (vm.card === 'many-to-one' || vm.card === 'one-to-many');
  // Prometheus 2.42 drops a group modifier after an empty ignoring(); later versions keep it.
  if (vm === null || (vm.labels.length === 0 && !vm.on && !grouped)) return '';
  let text = ` ${vm.on ? 'on' : 'ignoring'} (${vm.labels.join(', ')})`;
  if (grouped) {
    text += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${vm.include.join(', ')})`;
  }
  return text;
}
