/** The suggestion list under the expression box: fetches candidates, shows them, inserts the chosen one. */
import { labelNames, labelValues } from './api.js';
import { completionContext, PROMQL_FUNCTIONS, rankSuggestions, type CompletionContext } from './autocomplete.js';

const LIMIT = 50;
const CACHE_MS = 60_000;

interface Cached {
  readonly atMs: number;
  readonly values: Promise<string[]>;
}

export class SuggestBox {
  private items: string[] = [];
  private selected = 0;
  private context: CompletionContext | undefined;
  private readonly cache = new Map<string, Cached>();
  private generation = 0;

  constructor(
    private readonly input: HTMLTextAreaElement,
    private readonly list: HTMLUListElement,
  ) {
    input.addEventListener('input', () => void this.update());
    input.addEventListener('click', () => void this.update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    list.addEventListener('mousedown', (e) => {
      const li = (e.target as HTMLElement).closest('li');
      if (!li) return;
      e.preventDefault();
      this.accept(Number(li.dataset['index']));
    });
  }

  get open(): boolean {
    return !this.list.hidden;
  }

  /** Handles navigation keys while the list is open; answers whether the key was used. */
  handleKey(e: KeyboardEvent): boolean {
    if (!this.open) {
      if (e.key === ' ' && e.ctrlKey) {
        void this.update();
        return true;
      }
      return false;
    }
    switch (e.key) {
      case 'ArrowDown':
        this.select(this.selected + 1);
        return true;
      case 'ArrowUp':
        this.select(this.selected - 1);
        return true;
      case 'Enter':
      case 'Tab':
        this.accept(this.selected);
        return true;
      case 'Escape':
        this.close();
        return true;
      default:
        return false;
    }
  }

  close(): void {
    this.list.hidden = true;
    this.items = [];
    this.generation++;
  }

  private async update(): Promise<void> {
    const generation = ++this.generation;
    const context = completionContext(this.input.value, this.input.selectionStart ?? this.input.value.length);
    if (context === undefined) {
      this.close();
      return;
    }
    let candidates: string[];
    try {
      candidates = await this.candidates(context);
    } catch {
      candidates = [];
    }
    if (generation !== this.generation) return;
    const items = rankSuggestions(candidates, context.prefix, LIMIT);
    if (items.length === 0) {
      this.list.hidden = true;
      return;
    }
    this.context = context;
    this.items = items;
    this.list.replaceChildren(
      ...items.map((item, i) => {
        const li = document.createElement('li');
        li.textContent = item;
        li.dataset['index'] = String(i);
        li.setAttribute('role', 'option');
        if (context.kind === 'metric' && PROMQL_FUNCTIONS.includes(item)) li.classList.add('function');
        return li;
      }),
    );
    this.list.hidden = false;
    this.select(0);
  }

  private candidates(context: CompletionContext): Promise<string[]> {
    const match = context.kind !== 'metric' && context.metric !== undefined ? `{__name__=${JSON.stringify(context.metric)}}` : undefined;
    switch (context.kind) {
      case 'metric':
        return this.cached('__name__', () => labelValues('__name__')).then((names) => [...names, ...PROMQL_FUNCTIONS]);
      case 'label-name':
        return this.cached(`names ${match ?? ''}`, () => labelNames(match)).then((names) => names.filter((n) => n !== '__name__'));
      case 'label-value':
        return this.cached(`values ${context.label} ${match ?? ''}`, () => labelValues(context.label, match));
    }
  }

  private cached(key: string, load: () => Promise<string[]>): Promise<string[]> {
    const hit = this.cache.get(key);
    if (hit !== undefined && Date.now() - hit.atMs < CACHE_MS) return hit.values;
    const values = load();
    this.cache.set(key, { atMs: Date.now(), values });
    values.catch(() => this.cache.delete(key));
    return values;
  }

  private select(index: number): void {
    if (this.items.length === 0) return;
    this.selected = (index + this.items.length) % this.items.length;
    this.list.querySelectorAll('li').forEach((li, i) => {
      li.classList.toggle('selected', i === this.selected);
      li.setAttribute('aria-selected', String(i === this.selected));
      if (i === this.selected) li.scrollIntoView({ block: 'nearest' });
    });
  }

  private accept(index: number): void {
    const item = this.items[index];
    const context = this.context;
    if (item === undefined || context === undefined) return;
    const cursor = this.input.selectionStart ?? this.input.value.length;
    let insert = item;
    if (context.kind === 'label-value') insert = item.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const text = this.input.value;
    this.input.value = text.slice(0, context.from) + insert + text.slice(cursor);
    const at = context.from + insert.length;
    this.input.setSelectionRange(at, at);
    this.close();
    this.input.focus();
  }
}
