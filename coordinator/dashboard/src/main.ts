/**
 * The dashboard page: the runs list on the left, the selected run on the right, live over SSE.
 * Messages update the model at once; the DOM follows at most once per animation frame.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import type { RunListItem } from '../api-types.js';
import { AdminControls } from './admin.js';
import { followRun, getRun, listRuns } from './api-client.js';
import { byId, h, setText } from './dom.js';
import { FrameScheduler } from './frame-scheduler.js';
import { RunModel } from './run-model.js';
import { RunView } from './run-view.js';
import { RunsList } from './runs-list.js';

const scheduler = new FrameScheduler();
const admin = new AdminControls();
const runsList = new RunsList();
const connection = byId('connection');
const main = byId('run');
let runs: RunListItem[] = [];
let liveRunId: string | null = null;
let current: { runId: string; model?: RunModel; view?: RunView; unfollow: () => void } | undefined;

byId('admin').append(admin.form);
byId('layout').prepend(runsList.root);

function selectedRunId(): string | undefined {
  const match = /^#\/runs\/(.+)$/.exec(location.hash);
  if (match?.[1]) return decodeURIComponent(match[1]);
  return liveRunId ?? runs[0]?.id;
}

function setConnection(state: string, className: string): void {
  setText(connection, state);
  connection.className = `badge ${className}`;
}

async function refreshRuns(): Promise<void> {
  try {
    const result = await listRuns();
    runs = result.runs;
    liveRunId = result.liveRunId;
    runsList.show(runs, current?.runId ?? selectedRunId());
  } catch (error) {
    setConnection(`cannot list runs: ${(error as Error).message}`, 'bad');
  }
}

function open(runId: string): void {
  if (current?.runId === runId) return;
  current?.unfollow();
  current?.view?.destroy();
  const state: NonNullable<typeof current> = { runId, unfollow: () => undefined };
  current = state;
  main.replaceChildren(h('p', { className: 'muted', text: `loading ${runId}…` }));
  runsList.show(runs, runId);
  const run = runs.find((r) => r.id === runId);
  if (run && !run.live) {
    // A stored run does not change: one read, no stream.
    setConnection('stored run', 'muted');
    getRun(runId)
      .then((snapshot) => {
        if (current !== state) return;
        state.model = new RunModel(snapshot);
        state.view = new RunView(main, state.model, scheduler, admin);
      })
      .catch((error: unknown) => main.replaceChildren(h('p', { className: 'bad', text: (error as Error).message })));
    return;
  }
  state.unfollow = followRun(runId, {
    snapshot: (snapshot) => {
      if (current !== state) return;
      if (state.model && state.view) {
        state.model.applySnapshot(snapshot);
        state.view.update();
        return;
      }
      state.model = new RunModel(snapshot);
      state.view = new RunView(main, state.model, scheduler, admin);
    },
    delta: (delta) => {
      if (current !== state || !state.model || !state.view) return;
      state.model.applyDelta(delta);
      state.view.update();
      if (delta.run) void refreshRuns();
    },
    status: (s) => setConnection(s === 'live' ? 'live' : 'reconnecting…', s === 'live' ? 'ok' : 'warn'),
  });
}

window.addEventListener('hashchange', () => {
  const runId = selectedRunId();
  if (runId) open(runId);
});
setInterval(() => current?.view?.tick(), 1_000);
setInterval(() => void refreshRuns(), 10_000);

await refreshRuns();
const first = selectedRunId();
if (first) open(first);
else main.replaceChildren(h('p', { className: 'muted', text: 'No run in this store yet.' }));
