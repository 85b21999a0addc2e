/**
 * A progress bar for long CLI work (the rounds of a run). It draws only on a TTY and never with
 * `--json`: piped output and log files get the ordinary lines and no control characters.
 *
 *   rounds [██████████░░░░░░░░░░]  5/10  50%  eta 42s  accuracy 91.20%
 *
 * Lines printed while the bar is up must go through `bar.log(line)` (or, for a logger, the stream
 * `bar.above(process.stderr)`), which clears the bar, prints the line and draws the bar below it.
 *
 * (The `progress` package in node_modules is only a transitive dependency, unmaintained since
 * 2019; this is the part of it we need.)
 *
 * @example
 * const bar = new ProgressBar({ total: config.rounds, label: 'rounds', enabled: !json });
 * const untrack = trackRounds(coordinator.engine, bar);
 * coordinator.engine.on((e) => { const line = formatEvent(e, config.rounds); if (line) bar.log(line); });
 */
import type { RunEngine } from '../engine/run-engine.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  total: number;
  label?: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Default: the stream is a TTY. Pass false for `--json`. */
  enabled?: boolean;
  /** Width of the bar itself, in cells; default 24. */
  width?: number;
  /** Redraws at most this often (ms), except on finish; default 100. */
  minIntervalMs?: number;
  now?: () => number;
}

export class ProgressBar {
  readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private total: number;
  private done = 0;
  private detail = '';
  private startedAt: number;
  private startedFrom = 0;
  private lastDraw = 0;
  private shown = false;
  private finished = false;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.enabled ?? this.stream.isTTY === true;
    this.now = options.now ?? Date.now;
    this.total = Math.max(0, options.total);
    this.startedAt = this.now();
  }

  /** Sets progress to `done` of total (clamped), with an optional note after the bar. */
  update(done: number, detail?: string): void {
    if (this.finished) return;
    this.done = Math.min(this.total, Math.max(0, done));
    if (detail !== undefined) this.detail = detail;
    this.draw(false);
  }

  /** Starts counting from `done` (e.g. a resumed run): the ETA is measured from here. */
  restartFrom(done: number): void {
    this.startedFrom = Math.min(this.total, Math.max(0, done));
    this.startedAt = this.now();
    this.update(done);
  }

  /** Changes only the note after the bar. */
  note(detail: string): void {
    this.update(this.done, detail);
  }

  tick(by = 1, detail?: string): void {
    this.update(this.done + by, detail);
  }

  setTotal(total: number): void {
    this.total = Math.max(0, total);
    this.draw(false);
  }

  /** Prints `line` above the bar (or plainly, when the bar is off), on `stream` (default the bar's). */
  log(line: string, stream: ProgressStream = this.stream): void {
    this.print(`${line}\n`, stream);
  }

  /**
   * A writable for anything else that shares the terminal, such as the logger:
   * `createLogger({ stream: bar.above(process.stderr) })`. Text goes to `stream`, above the bar.
   */
  above(stream: ProgressStream = this.stream): { write(text: string): void } {
    return { write: (text) => this.print(text, stream) };
  }

  private print(text: string, stream: ProgressStream): void {
    if (!this.enabled) {
      stream.write(text);
      return;
    }
    this.clear();
    stream.write(text);
    if (!this.finished) this.draw(true);
  }

  /** Draws the final state and moves to a new line; the bar stays on screen. */
  finish(detail?: string): void {
    if (this.finished) return;
    if (detail !== undefined) this.detail = detail;
    this.draw(true);
    this.finished = true;
    if (this.enabled && this.shown) this.stream.write('\n');
    this.shown = false;
  }

  /** Removes the bar from the screen without finishing. */
  clear(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  /** The bar's text (without control characters), as it would be drawn now. */
  render(): string {
    const width = this.options.width ?? 24;
    const ratio = this.total > 0 ? this.done / this.total : 0;
    const filled = Math.round(ratio * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const digits = String(this.total).length;
    const parts = [
      `${this.options.label ? `${this.options.label} ` : ''}[${bar}]`,
      `${String(this.done).padStart(digits)}/${this.total}`,
      `${String(Math.floor(ratio * 100)).padStart(3)}%`,
    ];
    const eta = this.eta();
    if (eta !== undefined) parts.push(`eta ${eta}`);
    if (this.detail) parts.push(this.detail);
    return parts.join('  ');
  }

  private eta(): string | undefined {
    const progressed = this.done - this.startedFrom;
    if (progressed <= 0 || this.done >= this.total) return undefined;
    const seconds = (((this.now() - this.startedAt) / progressed) * (this.total - this.done)) / 1000;
    if (seconds < 60) return `${Math.ceil(seconds)}s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
    return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  }

  private draw(force: boolean): void {
    if (!this.enabled || this.finished) return;
    const now = this.now();
    if (!force && this.shown && now - this.lastDraw < (this.options.minIntervalMs ?? 100)) return;
    this.lastDraw = now;
    const columns = this.stream.columns ?? 80;
    // One cell short of the width, so the terminal never wraps the bar onto a second line.
    const text = [...this.render()].slice(0, Math.max(10, columns - 1)).join('');
    this.stream.write(`\r\x1b[K${text}`);
    this.shown = true;
  }
}

/** Drives `bar` from a run's engine events: one step per completed round. */
export function trackRounds(engine: Pick<RunEngine, 'on'>, bar: ProgressBar): () => void {
  return engine.on((event) => {
    switch (event.type) {
      case 'run-started':
        bar.restartFrom(event.resumedAfterRound);
        return;
      case 'waiting':
        bar.update(event.round - 1, `waiting for workers ${event.ready}/${event.needed}`);
        return;
      case 'round-started':
        bar.update(event.round - 1, `round ${event.round}: ${event.selected.length} workers training`);
        return;
      case 'round-completed':
        bar.update(event.round, event.accuracy === null ? `round ${event.round} done` : `accuracy ${(event.accuracy * 100).toFixed(2)}%`);
        return;
      case 'run-paused':
        bar.note('paused: no new round starts until resumed');
        return;
      case 'run-ended':
        bar.finish(`${event.status}: ${event.reason}`);
        return;
      default:
        return;
    }
  });
}
