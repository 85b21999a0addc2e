/** The list of runs in the store, newest first; the live one is marked. A run is selected by `#/runs/ID`. */
import type { RunListItem } from '../api-types.js';
import { h } from './dom.js';
import { dateTime } from './format.js';

export class RunsList {
  readonly root = h('nav', { id: 'runs', className: 'runs' });
  private readonly list = h('ul', { id: 'runs-list' });
  private lastJson = '';

  constructor() {
    this.root.setAttribute('aria-label', 'Runs');
    this.root.append(h('h2', { text: 'Runs' }), this.list);
  }

  /** Rebuilds the list only when something in it changed (the list is short: one entry per run). */
  show(runs: readonly RunListItem[], selected: string | undefined): void {
    const json = JSON.stringify([runs, selected]);
    if (json === this.lastJson) return;
    this.lastJson = json;
    this.list.replaceChildren(
      ...runs.map((run) => {
        const link = h(
          'a',
          { className: `run-link${run.id === selected ? ' selected' : ''}` },
          h('span', { className: 'run-id', text: run.id }),
          h('span', { className: `badge ${run.live ? 'ok' : run.status === 'completed' ? 'done' : run.status === 'running' ? 'muted' : 'bad'}`, text: run.live ? 'live' : run.status }),
          h('span', { className: 'muted small', text: `${run.model} · ${run.completedRounds}/${run.totalRounds ?? '?'} rounds · ${dateTime(run.createdAt)}` }),
        );
        link.href = `#/runs/${encodeURIComponent(run.id)}`;
        link.dataset.runId = run.id;
        return h('li', {}, link);
      }),
    );
    if (runs.length === 0) this.list.replaceChildren(h('li', { className: 'muted', text: 'No run in this store yet.' }));
  }
}
