/** Wires the page: expression box with suggestions, time range, and one run showing table and chart. */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { ApiError, instantQuery, rangeQuery, type Answer, type QueryData } from './api.js';
import { Chart } from './chart.js';
import { autoStepSeconds, parseStepSeconds } from './format.js';
import { SuggestBox } from './suggest-box.js';
import { renderTable } from './table.js';

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page is missing #${id}`);
  return el;
}

const form = byId('query-form', HTMLFormElement);
const expr = byId('expr', HTMLTextAreaElement);
const rangeSelect = byId('range', HTMLSelectElement);
const endInput = byId('end', HTMLInputElement);
const stepInput = byId('step', HTMLInputElement);
const runButton = byId('run', HTMLButtonElement);
const errorBox = byId('error', HTMLDivElement);
const statusLine = byId('status', HTMLDivElement);
const tbody = byId('result-table', HTMLTableElement).tBodies[0]!;
const chartNote = byId('chart-note', HTMLDivElement);
const chart = new Chart(byId('chart', HTMLDivElement));
const suggestions = new SuggestBox(expr, byId('suggestions', HTMLUListElement));

let running: AbortController | undefined;

function showChartNote(message: string | undefined): void {
  chartNote.hidden = message === undefined;
  chartNote.textContent = message ?? '';
}

function showError(message: string | undefined): void {
  errorBox.hidden = message === undefined;
  errorBox.textContent = message ?? '';
}

function endSeconds(): number {
  if (endInput.value === '') return Date.now() / 1000;
  const ms = new Date(endInput.value).getTime();
  if (Number.isNaN(ms)) throw new ApiError('input', `cannot read the end time ${JSON.stringify(endInput.value)}`);
  return ms / 1000;
}

function errorText(err: unknown): string {
  if (err instanceof ApiError) return `Error (${err.errorType}): ${err.message}`;
  return `Error: ${err instanceof Error ? err.message : String(err)}`;
}

async function run(): Promise<void> {
  const text = expr.value.trim();
  if (text === '') {
    showError('Error: enter an expression');
    return;
  }
  running?.abort();
  const controller = new AbortController();
  running = controller;
  suggestions.close();
  runButton.disabled = true;
  statusLine.textContent = 'Running…';
  const url = new URL(location.href);
  url.searchParams.set('expr', text);
  url.searchParams.set('range', rangeSelect.value);
  history.replaceState(null, '', url);
  const startedMs = performance.now();
  try {
    const rangeSec = Number(rangeSelect.value);
    const endSec = Math.round(endSeconds() * 1000) / 1000;
    const stepText = stepInput.value;
    const stepSec = parseStepSeconds(stepText) ?? autoStepSeconds(rangeSec);
    if (stepText.trim() !== '' && parseStepSeconds(stepText) === undefined) {
      throw new ApiError('input', `cannot read the step ${JSON.stringify(stepText)}; use seconds or a duration such as 30s`);
    }
    const [instant, range] = await Promise.all([
      instantQuery(text, endSec, controller.signal),
      rangeQuery(text, endSec - rangeSec, endSec, stepSec, controller.signal).catch((err: unknown) => err),
    ]);
    if (controller !== running) return;
    showError(undefined);
    const rows = renderTable(tbody, instant.data);
    const warnings = [...instant.warnings];
    if (range instanceof Error) {
      chart.clear();
      // A range vector or a string: only the instant query answers it, and the table stands.
      showChartNote(`No graph: ${range.message}`);
    } else {
      const answer = range as Answer<QueryData>;
      const drawn = chart.render(answer.data, endSec - rangeSec, endSec);
      showChartNote(drawn === 0 ? 'No data in this time range.' : undefined);
      warnings.push(...answer.warnings);
    }
    const tookMs = Math.round(performance.now() - startedMs);
    statusLine.textContent = `${rows} result${rows === 1 ? '' : 's'} · step ${stepSec}s · ${tookMs} ms${warnings.length ? ` · warnings: ${warnings.join('; ')}` : ''}`;
  } catch (err) {
    if (controller !== running || (err instanceof DOMException && err.name === 'AbortError')) return;
    showError(errorText(err));
    showChartNote(undefined);
    statusLine.textContent = '';
    tbody.replaceChildren();
    chart.clear();
  } finally {
    if (controller === running) {
      runButton.disabled = false;
      running = undefined;
    }
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void run();
});

expr.addEventListener('keydown', (e) => {
  if (suggestions.handleKey(e)) {
    e.preventDefault();
    return;
  }
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    void run();
  }
});

byId('end-now', HTMLButtonElement).addEventListener('click', () => {
  endInput.value = '';
  if (expr.value.trim() !== '') void run();
});

rangeSelect.addEventListener('change', () => {
  if (expr.value.trim() !== '') void run();
});

// A shared link (?expr=...&range=...) runs its query on load.
const initial = new URL(location.href).searchParams;
const initialRange = initial.get('range');
if (initialRange !== null && [...rangeSelect.options].some((o) => o.value === initialRange)) rangeSelect.value = initialRange;
const initialExpr = initial.get('expr');
if (initialExpr !== null) {
  expr.value = initialExpr;
  void run();
}
expr.focus();
