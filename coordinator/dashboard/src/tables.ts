/** The run view's tables: which columns each has, and how a row reads. */
import type { ContributionRow, Incident, RoundRow, WorkerRow } from '../api-types.js';
import { VirtualTable } from './virtual-table.js';
import type { FrameScheduler } from './frame-scheduler.js';
import { ago, clock, duration, fixed, integer, percent, rate, shortAddress, shortHash } from './format.js';

export function workersTable(scheduler: FrameScheduler, now: () => number): VirtualTable<WorkerRow> {
  return new VirtualTable<WorkerRow>(
    {
      id: 'workers-table',
      key: (w) => w.address,
      emptyText: 'No worker has joined yet.',
      filterable: true,
      height: 340,
      now,
      sort: { key: 'status', descending: false },
      columns: [
        { key: 'address', title: 'worker', width: 'minmax(8rem, 1.2fr)', text: (w) => shortAddress(w.address), hover: (w) => w.address },
        { key: 'status', title: 'status', width: '6.5rem', text: (w) => (w.connected ? 'connected' : 'left'), hover: (w) => w.leftReason ?? '', cellClass: (w) => (w.connected ? 'ok' : 'muted'), sortValue: (w) => (w.connected ? 0 : 1) },
        { key: 'kind', title: 'kind', width: '5rem', text: (w) => w.kind },
        { key: 'backend', title: 'backend', width: '6rem', text: (w) => w.backend || '—', hover: (w) => w.backendReason ?? '' },
        { key: 'adapter', title: 'adapter / device', width: 'minmax(8rem, 1.5fr)', text: (w) => w.adapter ?? '—', hover: (w) => w.adapter ?? '' },
        { key: 'eps', title: 'examples/s', width: '6.5rem', align: 'right', text: (w) => rate(w.examplesPerSecond), sortValue: (w) => w.examplesPerSecond },
        { key: 'speed', title: 'steps/s est.', width: '6.5rem', align: 'right', text: (w) => rate(w.stepsPerSecond), sortValue: (w) => w.stepsPerSecond ?? null },
        { key: 'assigned', title: 'steps given', width: '6rem', align: 'right', text: (w) => integer(w.assignedSteps), sortValue: (w) => w.assignedSteps ?? null },
        { key: 'quality', title: 'quality', width: '5.5rem', align: 'right', text: (w) => qualityText(w), hover: (w) => (w.flagged ? 'flagged: confidently harmful' : ''), sortValue: (w) => w.quality ?? null, cellClass: (w) => (w.flagged ? 'warn' : '') },
        { key: 'confidence', title: 'conf.', width: '4.5rem', align: 'right', text: (w) => (w.qualityConfidence == null ? '—' : w.qualityConfidence.toFixed(2)), sortValue: (w) => w.qualityConfidence ?? null },
        { key: 'rounds', title: 'rounds', width: '4.5rem', align: 'right', text: (w) => integer(w.rounds), sortValue: (w) => w.rounds },
        { key: 'dropouts', title: 'dropouts', width: '5rem', align: 'right', text: (w) => integer(w.dropouts), sortValue: (w) => w.dropouts, cellClass: (w) => ((w.dropouts ?? 0) > 0 ? 'warn' : '') },
        { key: 'seen', title: 'last seen', width: '6rem', align: 'right', text: (w, t) => ago(w.lastSeen, t), sortValue: (w) => -w.lastSeen },
      ],
    },
    scheduler,
  );
}

export function contributionsTable(scheduler: FrameScheduler): VirtualTable<ContributionRow> {
  return new VirtualTable<ContributionRow>(
    {
      id: 'contributions-table',
      key: (c) => c.address,
      emptyText: 'No contribution recorded yet: contributions are recorded when a round completes.',
      filterable: true,
      height: 250,
      sort: { key: 'amount', descending: true },
      columns: [
        { key: 'address', title: 'worker', width: 'minmax(8rem, 1.2fr)', text: (c) => shortAddress(c.address), hover: (c) => c.address },
        { key: 'rounds', title: 'rounds', width: '4.5rem', align: 'right', text: (c) => integer(c.rounds), sortValue: (c) => c.rounds },
        { key: 'examples', title: 'examples', width: '6.5rem', align: 'right', text: (c) => integer(c.examples), sortValue: (c) => c.examples },
        { key: 'amount', title: 'contribution', width: '7rem', align: 'right', text: (c) => integer(c.amount), sortValue: (c) => c.amount },
        { key: 'reward', title: 'reward', width: '8rem', align: 'right', text: (c) => c.reward ?? '—' },
        { key: 'tx', title: 'recorded in tx', width: 'minmax(9rem, 1.3fr)', text: (c) => (c.txHash ? shortHash(c.txHash) : 'pending'), hover: (c) => c.txHash ?? 'not recorded on-chain yet', cellClass: (c) => (c.txHash ? 'mono' : 'muted') },
      ],
    },
    scheduler,
  );
}

export function roundsTable(scheduler: FrameScheduler): VirtualTable<RoundRow> {
  return new VirtualTable<RoundRow>(
    {
      id: 'rounds-table',
      key: (r) => String(r.round),
      emptyText: 'No round has completed yet.',
      height: 200,
      sort: { key: 'round', descending: true },
      columns: [
        { key: 'round', title: 'round', width: '4.5rem', align: 'right', text: (r) => String(r.round), sortValue: (r) => r.round },
        { key: 'time', title: 'completed', width: '6rem', text: (r) => clock(r.completedAt), sortValue: (r) => r.completedAt },
        { key: 'duration', title: 'duration', width: '6rem', align: 'right', text: (r) => duration(r.durationMs), sortValue: (r) => r.durationMs },
        { key: 'workers', title: 'workers', width: '5rem', align: 'right', text: (r) => String(r.participants), sortValue: (r) => r.participants },
        { key: 'dropped', title: 'dropped', width: '5rem', align: 'right', text: (r) => integer(r.dropped), sortValue: (r) => r.dropped },
        { key: 'cut', title: 'cut', width: '4rem', align: 'right', text: (r) => integer(r.stragglersCut), sortValue: (r) => r.stragglersCut },
        { key: 'stale', title: 'stale', width: '4rem', align: 'right', text: (r) => integer(r.staleness), sortValue: (r) => r.staleness, hover: () => 'async mode: versions the applied group lagged behind' },
        { key: 'examples', title: 'examples', width: '6rem', align: 'right', text: (r) => integer(r.examples), sortValue: (r) => r.examples },
        { key: 'accuracy', title: 'accuracy', width: '6rem', align: 'right', text: (r) => percent(r.accuracy), sortValue: (r) => r.accuracy },
        { key: 'loss', title: 'loss', width: '5.5rem', align: 'right', text: (r) => fixed(r.loss), sortValue: (r) => r.loss },
        { key: 'secure', title: 'SecAgg', width: '4.5rem', text: (r) => (r.secure ? 'yes' : 'no') },
        { key: 'tx', title: 'ledger tx', width: 'minmax(8rem, 1fr)', text: (r) => (r.txHash ? shortHash(r.txHash) : '—'), hover: (r) => r.txHash ?? '', cellClass: () => 'mono' },
      ],
    },
    scheduler,
  );
}

export function incidentsTable(scheduler: FrameScheduler): VirtualTable<Incident> {
  return new VirtualTable<Incident>(
    {
      id: 'incidents-table',
      key: (i) => String(i.id),
      emptyText: 'No dropouts, departures or failures.',
      filterable: true,
      height: 200,
      sort: { key: 'time', descending: true },
      columns: [
        { key: 'time', title: 'time', width: '5.5rem', text: (i) => clock(i.at), sortValue: (i) => i.id },
        { key: 'kind', title: 'what', width: '7rem', text: (i) => i.kind, cellClass: (i) => (i.kind === 'round-failed' || i.kind === 'run-ended' ? 'bad' : i.kind === 'dropped' ? 'warn' : '') },
        { key: 'round', title: 'round', width: '4.5rem', align: 'right', text: (i) => (i.round === null ? '' : String(i.round)), sortValue: (i) => i.round },
        { key: 'address', title: 'worker', width: '8rem', text: (i) => shortAddress(i.address), hover: (i) => i.address ?? '' },
        { key: 'reason', title: 'reason', width: 'minmax(12rem, 3fr)', text: (i) => i.reason, hover: (i) => i.reason },
      ],
    },
    scheduler,
  );
}

/** A worker's quality estimate under contribution scoring, marked when flagged; — without scoring. */
function qualityText(w: WorkerRow): string {
  if (w.quality == null) return '—';
  return `${w.flagged ? '⚑ ' : ''}${w.quality.toFixed(2)}`;
}
