/**
 * The volunteer's page (built to dist/page.js): the UI, the identity, and the Web Worker that does
 * the work. Joining starts a dedicated module worker (dist/worker.js) and hands it the coordinator,
 * the data source and the backend request; leaving stops it. Closing the tab closes its socket: the
 * coordinator counts that as an ordinary dropout; during a round the page asks first (beforeunload).
 * Nothing on the training path runs on this thread's timers or requestAnimationFrame (a hidden tab
 * throttles those): the socket, the protocol and training are in the Web Worker, and the page only
 * answers its postMessage requests (signatures), which are not throttled.
 *
 * Tests and scripts drive it through `window.cohort` (state, join, leave).
 */
import { webgpuAdapterInfo } from '../adapter.js';
import type { DataSource, LocalDataSummary, PageToWorker, WorkerToPage } from '../bridge.js';
import { clearDataset, loadDatasetSummary } from '../storage.js';
import { readParams } from './params.js';
import { addLog, applyWorkerMessage, initialState, roundInProgress } from './state.js';
import { RewardsPanel, coordinatorHttpOrigin } from './rewards.js';
import { render, renderRewards } from './view.js';
import type {} from './window-api.js'; // declares window.cohort, set below
import { chooseSigner, injectedProvider, tabSigner, type PageSigner } from './wallet.js';

const params = readParams(window.location);
const state = initialState({
  coordinatorUrl: params.coordinatorUrl,
  ownCoordinatorUrl: params.ownCoordinatorUrl,
  // A coordinator named by a link is joined, and signed for, only once the volunteer confirms it.
  coordinatorUnconfirmed: params.foreignCoordinator,
  requireSecureAggregation: params.requireSecureAggregation,
  secure: window.isSecureContext,
  crossOriginIsolated: window.crossOriginIsolated,
  hidden: document.visibilityState === 'hidden',
});
const workerUrl = new URL('./worker.js', import.meta.url);
const wasmPaths = new URL('./tfjs-wasm/', import.meta.url).href;
/** How long a leaving worker gets to close its socket cleanly before it is terminated. */
const LEAVE_GRACE_MS = 5_000;

let worker: Worker | undefined;
let signer: PageSigner | undefined;

/**
 * The close warning: a beforeunload listener present only while a round is in progress, so an idle
 * tab closes without a prompt (and stays eligible for the browser's back/forward cache).
 */
const warnBeforeClose = (event: BeforeUnloadEvent): void => {
  event.preventDefault();
  event.returnValue = ''; // older browsers show the prompt only when returnValue is set
};
let closeWarningArmed = false;

function armCloseWarning(armed: boolean): void {
  if (armed === closeWarningArmed) return;
  closeWarningArmed = armed;
  if (armed) window.addEventListener('beforeunload', warnBeforeClose);
  else window.removeEventListener('beforeunload', warnBeforeClose);
}

const update = (): void => {
  armCloseWarning(roundInProgress(state));
  render(state);
};
const send = (to: Worker, message: PageToWorker): void => to.postMessage(message);
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const rewards = new RewardsPanel({
  apiBase: coordinatorHttpOrigin(params.coordinatorUrl),
  address: () => state.address,
  // Claim may be pressed before Join: an injected wallet is asked to connect then.
  signer: async () => {
    signer ??= await chooseSigner(params.wallet);
    state.address = signer.address;
    state.wallet = signer.kind;
    update();
    return signer;
  },
  onChange: renderRewards,
  log: (line) => {
    addLog(state, line);
    update();
  },
});

async function join(): Promise<void> {
  if (state.joined) return;
  // Autostart or a Join click alike: a foreign coordinator waits for the prompt's answer.
  if (state.coordinatorUnconfirmed) return update();
  state.lastError = undefined;
  const data: DataSource = params.shard
    ? // The demo data is served beside this page (registerWorkerPageRoutes serves both).
      { kind: 'demo-shard', ...params.shard, url: new URL('/demo-data/mnist/shard', window.location.href).href }
    : { kind: 'local' };
  if (data.kind === 'local' && !state.localData) {
    state.lastError = 'Nothing to train on yet: pick a CSV or image folders under "Your data" (or open a demo link with ?shard=i/n).';
    return update();
  }
  try {
    signer ??= await chooseSigner(params.wallet);
  } catch (error) {
    state.lastError = `No identity: ${message(error)}`;
    return update();
  }
  state.address = signer.address;
  state.wallet = signer.kind;
  void rewards.refresh();

  const started = new Worker(workerUrl, { type: 'module', name: 'cohort-trainer' });
  worker = started;
  started.onmessage = (event: MessageEvent<WorkerToPage>) => onWorkerMessage(started, event.data);
  started.onerror = (event) => {
    state.lastError = `the training worker failed: ${event.message || 'it could not be loaded'}`;
    finish(started);
  };
  state.joined = true;
  state.connection = 'connecting';
  state.stage = 'idle';
  send(started, {
    type: 'start',
    coordinatorUrl: params.coordinatorUrl,
    address: signer.address,
    data,
    backend: params.backend,
    maxLocalSteps: params.maxLocalSteps,
    wasmPaths,
    requireSecureAggregation: params.requireSecureAggregation,
  });
  update();
}

/** The volunteer trusts the link's coordinator: join it now. */
function confirmForeignCoordinator(): void {
  state.coordinatorUnconfirmed = false;
  addLog(state, `you confirmed the coordinator ${state.coordinatorUrl}`);
  void join();
}

/** The volunteer declines it: this page again, without the link's coordinator (and its other knobs kept). */
function useOwnCoordinator(): void {
  const url = new URL(window.location.href);
  url.searchParams.delete('coordinator');
  window.location.replace(url.href);
}

function leave(): void {
  const leaving = worker;
  if (!leaving) return;
  send(leaving, { type: 'stop', reason: 'the volunteer left' });
  setTimeout(() => finish(leaving), LEAVE_GRACE_MS);
}

function finish(ended: Worker): void {
  ended.terminate();
  if (worker !== ended) return;
  worker = undefined;
  state.joined = false;
  if (state.connection !== 'run ended') state.connection = 'not joined';
  update();
}

function onWorkerMessage(from: Worker, received: WorkerToPage): void {
  if (received.type === 'sign') {
    const current = signer;
    if (!current) return send(from, { type: 'sign-error', id: received.id, message: 'no identity' });
    current.sign(received.message).then(
      (signature) => send(from, { type: 'sign-result', id: received.id, signature }),
      (error: unknown) => send(from, { type: 'sign-error', id: received.id, message: message(error) }),
    );
    return;
  }
  applyWorkerMessage(state, received);
  if (received.type === 'ended') finish(from);
  if (received.type === 'session' && received.event.kind === 'round' && received.event.summary.status === 'completed') {
    rewards.refreshAfterRound(received.event.summary.round);
  }
  update();
}

/** Parses picked files in a short-lived Web Worker, which stores them in IndexedDB. */
async function importPicked(format: 'csv' | 'images', files: File[]): Promise<void> {
  if (files.length === 0) return;
  const status = document.getElementById('import-status');
  if (status) status.textContent = `Reading ${files.length} file${files.length === 1 ? '' : 's'}…`;
  const importer = new Worker(workerUrl, { type: 'module', name: 'cohort-import' });
  try {
    const result = await new Promise<Extract<WorkerToPage, { type: 'import-result' }>>((resolve, reject) => {
      importer.onmessage = (event: MessageEvent<WorkerToPage>) => {
        if (event.data.type === 'import-result') resolve(event.data);
      };
      importer.onerror = (event) => reject(new Error(event.message || 'the import worker could not be loaded'));
      send(importer, { type: 'import-files', id: 1, format, files });
    });
    if (result.error !== undefined) throw new Error(result.error);
    state.localData = result.summary;
    if (status) status.textContent = `Stored ${result.summary?.examples ?? 0} examples in this browser. Nothing was uploaded.`;
    addLog(state, `stored ${result.summary?.examples ?? 0} local examples (${result.summary?.source ?? ''})`);
  } catch (error) {
    if (status) status.textContent = `Could not use these files: ${message(error)}`;
  } finally {
    importer.terminate();
    update();
  }
}

async function forgetData(): Promise<void> {
  await clearDataset();
  state.localData = undefined;
  addLog(state, 'forgot the stored examples');
  update();
}

function exportKey(): void {
  const text = signer?.exportKey?.();
  if (!text || !signer) return;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  link.download = `cohort-key-${signer.address}.txt`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function wire(): void {
  const button = document.getElementById('join') as HTMLButtonElement;
  button.addEventListener('click', () => (state.joined ? leave() : void join()));
  document.getElementById('export-key')?.addEventListener('click', exportKey);
  document.getElementById('confirm-foreign')?.addEventListener('click', confirmForeignCoordinator);
  document.getElementById('use-own-coordinator')?.addEventListener('click', useOwnCoordinator);
  document.getElementById('clear-data')?.addEventListener('click', () => void forgetData());
  document.getElementById('rewards-claim')?.addEventListener('click', () => void rewards.claim());
  document.getElementById('rewards-refresh')?.addEventListener('click', () => void rewards.refresh());
  const picker = (id: string, format: 'csv' | 'images'): void => {
    const input = document.getElementById(id) as HTMLInputElement;
    input.addEventListener('change', () => void importPicked(format, [...(input.files ?? [])]).finally(() => (input.value = '')));
  };
  picker('pick-csv', 'csv');
  picker('pick-folder', 'images');
  picker('pick-images', 'images');
  document.addEventListener('visibilitychange', () => {
    state.hidden = document.visibilityState === 'hidden';
    update();
  });
  const problems = document.getElementById('param-problems');
  if (problems && params.problems.length > 0) {
    problems.textContent = `Ignored in the link: ${params.problems.join('; ')}.`;
    problems.hidden = false;
  }
}

async function boot(): Promise<void> {
  wire();
  update();
  const [gpu, local] = await Promise.all([webgpuAdapterInfo(), loadDatasetSummary().catch(() => undefined)]);
  state.adapter = gpu.adapter;
  state.adapterWhy = gpu.why;
  state.localData = local as LocalDataSummary | undefined;
  // A tab key is shown at once; an injected wallet is asked only when the volunteer joins.
  if (params.wallet === 'tab' || !injectedProvider()) {
    signer = await tabSigner();
    state.address = signer.address;
    state.wallet = 'tab';
  } else {
    state.wallet = 'injected';
  }
  update();
  // Not even a rewards lookup goes to a coordinator the volunteer has not confirmed.
  if (!state.coordinatorUnconfirmed) void rewards.refresh();
  if (params.autostart) await join();
}

window.cohort = {
  state: () => structuredClone(state),
  join,
  leave,
  // The same key file the Export button downloads (tab keys only; an injected wallet has none).
  exportKey: () => signer?.exportKey?.(),
  rewards: () => structuredClone(rewards.state),
  refreshRewards: () => rewards.refresh(),
  claimRewards: () => rewards.claim(),
  closeWarningArmed: () => closeWarningArmed,
  ready: boot().catch((error: unknown) => {
    state.lastError = `The page could not start: ${message(error)}`;
    update();
  }),
};
