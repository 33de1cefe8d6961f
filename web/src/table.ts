/** The instant query's result as table rows. */
import type { QueryData } from './api.js';
import { formatSeries, formatTime } from './format.js';

const MAX_ROWS = 1000;

function row(series: string, value: string): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const name = document.createElement('td');
  name.className = 'series';
  name.textContent = series;
  const val = document.createElement('td');
  val.className = 'value';
  val.textContent = value;
  tr.append(name, val);
  return tr;
}

/** Fills tbody; answers how many result rows there were (before the display cap). */
export function renderTable(tbody: HTMLTableSectionElement, data: QueryData): number {
  tbody.replaceChildren();
  let rows: HTMLTableRowElement[];
  switch (data.resultType) {
    case 'scalar':
    case 'string':
      rows = [row(data.resultType, data.result[1])];
      break;
    case 'vector':
      rows = data.result.slice(0, MAX_ROWS).map((s) => row(formatSeries(s.metric), s.value?.[1] ?? ''));
      break;
    case 'matrix':
      rows = data.result
        .slice(0, MAX_ROWS)
        .map((s) => row(formatSeries(s.metric), (s.values ?? []).map(([t, v]) => `${v} @${t} (${formatTime(t)})`).join('\n')));
      break;
  }
  const total = data.resultType === 'vector' || data.resultType === 'matrix' ? data.result.length : 1;
  if (total === 0) {
    const tr = row('', '');
    tr.className = 'empty';
    tr.firstElementChild!.textContent = 'Empty result';
    rows = [tr];
  } else if (total > MAX_ROWS) {
    const tr = row(`… ${total - MAX_ROWS} more rows not shown`, '');
    tr.className = 'more';
    rows.push(tr);
  }
  tbody.append(...rows);
  return total;
}
