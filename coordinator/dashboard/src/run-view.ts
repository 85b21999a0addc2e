/**
 * One run's view: header (round, stage, status, actions), stat cards, the accuracy and loss charts,
 * and the tables. It is built once per run; afterwards each part re-renders only when its slice of
 * the model changed, at most once per animation frame.
 */
import type { RunModel } from './run-model.js';
import type { FrameScheduler } from './frame-scheduler.js';
import { accuracyChart, lossChart, type RoundChart } from './charts.js';
import { h, setText } from './dom.js';
import { bytes, dateTime, duration, integer, percent, rate } from './format.js';
import { contributionsTable, incidentsTable, roundsTable, workersTable } from './tables.js';
import type { VirtualTable } from './virtual-table.js';
import type { ContributionRow, Incident, RoundRow, WorkerRow } from '../api-types.js';
import type { AdminControls } from './admin.js';

export class RunView {
  private readonly root: HTMLElement;
  private readonly status = h('span', { id: 'run-status', className: 'badge' });
  private readonly paused = h('span', { id: 'paused-badge', className: 'badge warn', text: 'paused' });
  private readonly roundCounter = h('span', { id: 'round-counter' });
  private readonly stage = h('span', { id: 'stage', className: 'stage' });
  private readonly stageClock = h('span', { id: 'stage-clock', className: 'muted' });
  private readonly meta = h('p', { id: 'run-meta', className: 'muted' });
  private readonly cards: Record<string, HTMLElement> = {};
  private readonly errorsList = h('ul', { id: 'errors-list', className: 'errors' });
  private readonly privacyNote = h('p', { id: 'privacy-note', className: 'muted' });
  private readonly charts: RoundChart[];
  private readonly workers: VirtualTable<WorkerRow>;
  private readonly contributions: VirtualTable<ContributionRow>;
  private readonly rounds: VirtualTable<RoundRow>;
  private readonly incidents: VirtualTable<Incident>;
  private readonly seen = { header: -1, workers: -1, rounds: -1, contributions: -1, incidents: -1 };

  constructor(
    container: HTMLElement,
    private readonly model: RunModel,
    private readonly scheduler: FrameScheduler,
    private readonly admin: AdminControls,
  ) {
    const now = (): number => model.now();
    this.charts = [accuracyChart(), lossChart()];
    this.workers = workersTable(scheduler, now);
    this.contributions = contributionsTable(scheduler);
    this.rounds = roundsTable(scheduler);
    this.incidents = incidentsTable(scheduler);
    this.paused.hidden = true;

    const card = (key: string, label: string): HTMLElement => {
      const value = h('strong', { id: `stat-${key}`, text: '—' });
      this.cards[key] = value;
      return h('div', { className: 'card' }, h('span', { className: 'label', text: label }), value);
    };
    this.root = h(
      'article',
      { id: 'run-view', className: 'run-view' },
      h(
        'header',
        { className: 'run-head' },
        h('div', {}, h('h2', { id: 'run-title', text: model.run.id }), this.meta),
        h('div', { className: 'run-state' }, this.status, this.paused, h('span', { className: 'round' }, h('span', { className: 'label', text: 'round ' }), this.roundCounter), this.stage, this.stageClock),
        admin.actions,
      ),
      h(
        'section',
        { className: 'cards' },
        card('workers', 'workers connected'),
        card('rounds', 'rounds completed'),
        card('accuracy', 'test accuracy'),
        card('throughput', 'examples/s (all workers)'),
        card('traffic', 'traffic in / out'),
        card('epsilon', 'ε spent'),
        card('errors', 'protocol errors'),
      ),
      h('section', { className: 'charts' }, ...this.charts.map((c) => c.root)),
      h('h3', { text: 'Workers' }),
      this.workers.root,
      h('h3', { text: 'Contributions and rewards' }),
      this.privacyNote,
      this.contributions.root,
      h('h3', { text: 'Dropouts, failures and actions' }),
      this.incidents.root,
      h('h3', { text: 'Rounds' }),
      this.rounds.root,
      h('h3', { text: 'Protocol errors by code' }),
      this.errorsList,
    );
    container.replaceChildren(this.root);
    this.update();
  }

  /** Call after the model changed; the work happens in the next frame. */
  update(): void {
    this.scheduler.schedule('run-view', () => this.render());
  }

  /** Once a second: ages ("3s ago") and the stage clock move even without messages. */
  tick(): void {
    this.workers.refresh();
    this.renderStageClock();
  }

  destroy(): void {
    for (const chart of this.charts) chart.destroy();
    this.root.remove();
  }

  private render(): void {
    const { version } = this.model;
    if (this.seen.header !== version.header) {
      this.seen.header = version.header;
      this.renderHeader();
    }
    if (this.seen.workers !== version.workers) {
      this.seen.workers = version.workers;
      this.workers.setRows([...this.model.workers.values()]);
    }
    if (this.seen.rounds !== version.rounds) {
      this.seen.rounds = version.rounds;
      const rounds = this.model.sortedRounds();
      for (const chart of this.charts) chart.setRounds(rounds);
      this.rounds.setRows(rounds);
    }
    if (this.seen.contributions !== version.contributions) {
      this.seen.contributions = version.contributions;
      this.contributions.setRows([...this.model.contributions.values()]);
    }
    if (this.seen.incidents !== version.incidents) {
      this.seen.incidents = version.incidents;
      this.incidents.setRows(this.model.incidents);
    }
  }

  private renderHeader(): void {
    const { run, stage, traffic, privacy } = this.model;
    setText(this.status, run.status);
    this.status.className = `badge ${run.status === 'running' ? 'ok' : run.status === 'completed' ? 'done' : 'bad'}`;
    this.paused.hidden = !this.model.paused || run.status !== 'running';
    setText(this.roundCounter, `${run.completedRounds} / ${run.totalRounds ?? '?'}`);
    setText(this.stage, stage ? `${stage.stage}${stage.attempt > 1 ? ` (attempt ${stage.attempt})` : ''}${stage.detail ? ` · ${stage.detail}` : ''}` : run.live ? 'starting' : '');
    setText(this.meta, `${run.model} · started ${dateTime(run.createdAt)}${run.endedAt ? ` · ended ${dateTime(run.endedAt)}` : ''}${run.endReason ? ` · ${run.endReason}` : ''}`);
    this.renderStageClock();

    const connected = this.model.connectedWorkers();
    setText(this.cards.workers!, `${connected}${this.model.workers.size > connected ? ` of ${this.model.workers.size}` : ''}`);
    setText(this.cards.rounds!, String(run.completedRounds));
    const last = this.model.sortedRounds().at(-1);
    setText(this.cards.accuracy!, percent(last?.accuracy ?? null));
    setText(this.cards.throughput!, rate(this.model.throughput()));
    setText(this.cards.traffic!, traffic ? `${bytes(traffic.bytesIn)} / ${bytes(traffic.bytesOut)}` : '—');
    setText(this.cards.epsilon!, privacy ? `${privacy.epsilon.toFixed(3)}${privacy.delta !== null ? ` (δ ${privacy.delta.toExponential(0)})` : ''}` : 'DP off');
    const errorTotal = Object.values(this.model.errors).reduce((a, b) => a + b, 0);
    setText(this.cards.errors!, integer(errorTotal));
    setText(this.privacyNote, privacy ? `Differential privacy on: ε spent so far ${privacy.epsilon.toFixed(3)}.` : 'Contribution is the declared work (examples × local epochs), capped per worker. Update quality is not scored per worker: under secure aggregation the coordinator never sees individual updates.');
    this.errorsList.replaceChildren(
      ...Object.entries(this.model.errors)
        .sort((a, b) => b[1] - a[1])
        .map(([code, n]) => h('li', {}, h('code', { text: code }), h('span', { text: ` ${integer(n)}` }))),
    );
    if (errorTotal === 0) this.errorsList.replaceChildren(h('li', { className: 'muted', text: 'none' }));
    this.admin.setRun(run, this.model.paused);
  }

  private renderStageClock(): void {
    const stage = this.model.stage;
    if (!stage || !this.model.run.live) {
      setText(this.stageClock, '');
      return;
    }
    const now = this.model.now();
    const left = stage.deadline !== null ? ` · deadline in ${duration(stage.deadline - now)}` : '';
    setText(this.stageClock, `for ${duration(now - stage.since)}${left}`);
  }
}
