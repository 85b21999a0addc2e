/**
 * A virtualised table: however many rows it holds (1,000 workers, 100,000 rounds), the DOM has
 * only the rows in view plus two, taken from a pool and reused. Updating rows rewrites only the
 * cells whose text changed. Columns sort on click; an optional filter matches any column's text.
 */
import type { FrameScheduler } from './frame-scheduler.js';

export interface Column<T> {
  key: string;
  title: string;
  /** A CSS grid track, e.g. '8rem' or 'minmax(6rem, 1fr)'. */
  width: string;
  text: (row: T, now: number) => string;
  /** What to sort by; default the text. */
  sortValue?: (row: T) => number | string | null;
  /** Full value shown on hover (a whole address or hash). */
  hover?: (row: T) => string;
  align?: 'right';
  cellClass?: (row: T) => string;
}

export interface VirtualTableOptions<T> {
  id: string;
  columns: Column<T>[];
  key: (row: T) => string;
  rowHeight?: number;
  /** Visible height of the body, in px. */
  height?: number;
  emptyText: string;
  sort?: { key: string; descending: boolean };
  filterable?: boolean;
  now?: () => number;
}

interface PooledRow {
  element: HTMLElement;
  cells: HTMLElement[];
  texts: string[];
  key: string;
}

export class VirtualTable<T> {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly window: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly countLabel: HTMLElement;
  private readonly headers: HTMLElement[] = [];
  private readonly pool: PooledRow[] = [];
  private readonly rowHeight: number;
  private rows: readonly T[] = [];
  private view: T[] = [];
  private viewStale = true;
  private sort: { key: string; descending: boolean } | undefined;
  private filter = '';

  constructor(
    private readonly options: VirtualTableOptions<T>,
    private readonly scheduler: FrameScheduler,
  ) {
    this.rowHeight = options.rowHeight ?? 28;
    this.sort = options.sort;
    const template = options.columns.map((c) => c.width).join(' ');

    this.root = el('section', 'vt');
    this.root.id = options.id;
    this.root.setAttribute('role', 'table');
    const tools = el('div', 'vt-tools');
    this.countLabel = el('span', 'vt-count');
    tools.append(this.countLabel);
    if (options.filterable) {
      const input = document.createElement('input');
      input.type = 'search';
      input.placeholder = 'filter';
      input.className = 'vt-filter';
      input.setAttribute('aria-label', 'filter rows');
      input.addEventListener('input', () => {
        this.filter = input.value.trim().toLowerCase();
        this.invalidate();
      });
      tools.append(input);
    }
    const head = el('div', 'vt-head');
    head.setAttribute('role', 'row');
    head.style.gridTemplateColumns = template;
    for (const column of options.columns) {
      const cell = el('button', `vt-th${column.align === 'right' ? ' right' : ''}`);
      cell.setAttribute('role', 'columnheader');
      cell.textContent = column.title;
      cell.addEventListener('click', () => this.sortBy(column.key));
      this.headers.push(cell);
      head.append(cell);
    }
    this.body = el('div', 'vt-body');
    this.body.style.height = `${options.height ?? 320}px`;
    this.spacer = el('div', 'vt-spacer');
    this.window = el('div', 'vt-window');
    this.empty = el('div', 'vt-empty');
    this.empty.textContent = options.emptyText;
    this.body.append(this.spacer, this.window, this.empty);
    this.body.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
    this.root.append(tools, head, this.body);
    this.window.style.setProperty('--vt-columns', template);
    this.markSort();
  }

  /** Replaces the rows; rendering happens in the next frame. */
  setRows(rows: readonly T[]): void {
    this.rows = rows;
    this.invalidate();
  }

  /** Re-renders the rows in view (e.g. for "3s ago" texts) without re-sorting. */
  refresh(): void {
    this.scheduleRender();
  }

  get rowCount(): number {
    return this.view.length;
  }

  private invalidate(): void {
    this.viewStale = true;
    this.scheduleRender();
  }

  private sortBy(key: string): void {
    this.sort = this.sort?.key === key ? { key, descending: !this.sort.descending } : { key, descending: false };
    this.markSort();
    this.invalidate();
  }

  private markSort(): void {
    this.options.columns.forEach((column, i) => {
      const header = this.headers[i];
      if (!header) return;
      const active = this.sort?.key === column.key;
      header.setAttribute('aria-sort', active ? (this.sort?.descending ? 'descending' : 'ascending') : 'none');
      header.dataset.sort = active ? (this.sort?.descending ? '▼' : '▲') : '';
    });
  }

  private scheduleRender(): void {
    this.scheduler.schedule(`table:${this.options.id}`, () => this.render());
  }

  private rebuildView(now: number): void {
    this.viewStale = false;
    const { columns } = this.options;
    let view = this.filter ? this.rows.filter((row) => columns.some((c) => (c.hover?.(row) ?? c.text(row, now)).toLowerCase().includes(this.filter))) : [...this.rows];
    const column = columns.find((c) => c.key === this.sort?.key);
    if (column) {
      const value = column.sortValue ?? ((row: T) => column.text(row, now));
      const direction = this.sort?.descending ? -1 : 1;
      view = view
        .map((row) => ({ row, v: value(row) }))
        .sort((a, b) => direction * compare(a.v, b.v))
        .map((x) => x.row);
    }
    this.view = view;
    this.spacer.style.height = `${view.length * this.rowHeight}px`;
    // Short tables shrink to their rows; long ones scroll inside `height`.
    const height = Math.min(this.options.height ?? 320, Math.max(3, view.length) * this.rowHeight);
    const css = `${height}px`;
    if (this.body.style.height !== css) this.body.style.height = css;
    this.empty.hidden = view.length > 0;
    this.countLabel.textContent = this.filter ? `${view.length} of ${this.rows.length}` : `${this.rows.length}`;
    this.root.dataset.rows = String(view.length);
  }

  private render(): void {
    const now = this.options.now?.() ?? Date.now();
    if (this.viewStale) this.rebuildView(now);
    const height = this.body.clientHeight || (this.options.height ?? 320);
    const first = Math.max(0, Math.floor(this.body.scrollTop / this.rowHeight) - 1);
    const count = Math.min(this.view.length - first, Math.ceil(height / this.rowHeight) + 2);
    this.window.style.transform = `translateY(${first * this.rowHeight}px)`;
    while (this.pool.length < count) this.pool.push(this.makeRow());
    for (let i = 0; i < this.pool.length; i++) {
      const pooled = this.pool[i]!;
      const row = i < count ? this.view[first + i] : undefined;
      if (row === undefined) {
        pooled.element.hidden = true;
        continue;
      }
      pooled.element.hidden = false;
      this.fill(pooled, row, now);
    }
  }

  private makeRow(): PooledRow {
    const element = el('div', 'vt-row');
    element.setAttribute('role', 'row');
    element.style.height = `${this.rowHeight}px`;
    const cells = this.options.columns.map((column) => {
      const cell = el('div', `vt-td${column.align === 'right' ? ' right' : ''}`);
      cell.setAttribute('role', 'cell');
      element.append(cell);
      return cell;
    });
    this.window.append(element);
    return { element, cells, texts: cells.map(() => ''), key: '' };
  }

  private fill(pooled: PooledRow, row: T, now: number): void {
    const key = this.options.key(row);
    if (pooled.key !== key) {
      pooled.key = key;
      pooled.element.dataset.key = key;
    }
    this.options.columns.forEach((column, i) => {
      const cell = pooled.cells[i]!;
      const text = column.text(row, now);
      if (pooled.texts[i] !== text) {
        pooled.texts[i] = text;
        cell.textContent = text;
      }
      const hover = column.hover?.(row) ?? '';
      if (cell.title !== hover) cell.title = hover;
      if (column.cellClass) {
        const className = `vt-td${column.align === 'right' ? ' right' : ''} ${column.cellClass(row)}`;
        if (cell.className !== className) cell.className = className;
      }
    });
  }
}

function compare(a: number | string | null, b: number | string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.className = className;
  return element;
}
