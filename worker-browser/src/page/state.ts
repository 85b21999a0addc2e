/**
 * What the page shows, as one plain object folded from the Web Worker's messages. Plain data, so
 * tests read it as is (`window.cohort.state()`) and the view only renders it.
 */
import type { AdapterInfo, BackendChoice, LocalDataSummary, Stage, WorkerToPage } from '../bridge.js';

export type Connection = 'not joined' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'run ended';

export interface PageState {
  joined: boolean;
  connection: Connection;
  coordinatorUrl: string;
  /**
   * Set while the link's coordinator is not the page's own and the volunteer has not confirmed it:
   * until then nothing connects to it and nothing is signed for it.
   */
  coordinatorUnconfirmed: boolean;
  /** The coordinator that served this page (this origin's /ws). */
  ownCoordinatorUrl: string;
  /** Refuse runs without secure aggregation (the default; a link may turn it off). */
  requireSecureAggregation: boolean;
  address: string | undefined;
  wallet: 'injected' | 'tab' | undefined;
  adapter: AdapterInfo | null;
  adapterWhy: string | undefined;
  backend: Omit<BackendChoice, 'measured' | 'skipped'> & Partial<Pick<BackendChoice, 'measured' | 'skipped'>> | undefined;
  /** The tfjs backend the last training steps actually ran on. */
  trainedOn: string | undefined;
  runId: string | undefined;
  round: number | undefined;
  stage: Stage;
  step: number | undefined;
  examplesTrained: number;
  roundsContributed: number;
  /** Rounds this tab sent an update for and whose outcome has not arrived yet. */
  awaitingRounds: number[];
  accuracy: number | undefined;
  /** This tab's quality under contribution scoring, from its last scored round. */
  quality: { estimate: number; confidence: number; factor: number; flagged: boolean } | undefined;
  data: { source: 'demo-shard' | 'local'; examples: number } | undefined;
  localData: LocalDataSummary | undefined;
  lastError: string | undefined;
  hidden: boolean;
  secure: boolean;
  crossOriginIsolated: boolean;
  log: string[];
}

export function initialState(
  init: Pick<PageState, 'coordinatorUrl' | 'secure' | 'crossOriginIsolated' | 'hidden'> & Partial<Pick<PageState, 'coordinatorUnconfirmed' | 'requireSecureAggregation' | 'ownCoordinatorUrl'>>,
): PageState {
  return {
    coordinatorUnconfirmed: false,
    requireSecureAggregation: true,
    ownCoordinatorUrl: init.coordinatorUrl,
    ...init,
    joined: false,
    connection: 'not joined',
    address: undefined,
    wallet: undefined,
    adapter: null,
    adapterWhy: undefined,
    backend: undefined,
    trainedOn: undefined,
    runId: undefined,
    round: undefined,
    stage: 'idle',
    step: undefined,
    examplesTrained: 0,
    roundsContributed: 0,
    awaitingRounds: [],
    accuracy: undefined,
    quality: undefined,
    data: undefined,
    localData: undefined,
    lastError: undefined,
    log: [],
  };
}

const LOG_LINES = 30;

/**
 * Whether closing the tab now would cost a round: it is training, has sent an update whose round
 * has not closed, or is inside a SecAgg+ stage (its shares are needed to unmask). The page warns
 * before unload only then; an idle or waiting tab closes silently.
 */
export function roundInProgress(state: PageState): boolean {
  if (!state.joined) return false;
  return state.stage === 'training' || state.stage === 'submitted' || state.stage.startsWith('secagg:');
}

export function addLog(state: PageState, line: string): void {
  state.log.push(`${new Date().toLocaleTimeString()} ${line}`);
  if (state.log.length > LOG_LINES) state.log.splice(0, state.log.length - LOG_LINES);
}

/** Folds one Web Worker message into the state (in place). */
export function applyWorkerMessage(state: PageState, message: WorkerToPage): void {
  switch (message.type) {
    case 'session':
      return applySessionEvent(state, message.event);
    case 'backend': {
      state.backend = message.choice;
      addLog(state, `backend ${message.choice.backend}: ${message.choice.reason}`);
      return;
    }
    case 'data':
      state.data = { source: message.source, examples: message.examples };
      return;
    case 'progress':
      state.stage = message.stage;
      if (message.round !== undefined) state.round = message.round;
      state.step = message.step;
      if (message.trainedOn !== undefined) state.trainedOn = message.trainedOn;
      return;
    case 'trained':
      state.examplesTrained += message.examples;
      state.trainedOn = message.trainedOn;
      state.step = message.steps;
      addLog(state, `round ${message.round}: trained ${message.steps} steps (${message.examples} examples) on ${message.trainedOn} in ${(message.trainMs / 1000).toFixed(1)} s`);
      return;
    case 'ended':
      state.joined = false;
      if (state.connection !== 'run ended') state.connection = 'not joined';
      state.stage = 'idle';
      if (message.error) state.lastError = message.error;
      addLog(state, `left: ${message.reason}${message.error ? ` (${message.error})` : ''}`);
      return;
    case 'log':
      if (message.level === 'error') state.lastError = message.message;
      addLog(state, message.message);
      return;
    case 'sign':
    case 'import-result':
    case 'benchmark-result':
      return; // answered by the page's controller, not state
  }
}

function applySessionEvent(state: PageState, event: Extract<WorkerToPage, { type: 'session' }>['event']): void {
  switch (event.kind) {
    case 'connecting':
      state.connection = event.attempt === 0 ? 'connecting' : 'reconnecting';
      return;
    case 'connected':
      state.connection = 'connected';
      addLog(state, `connected to coordinator ${event.coordinatorId}`);
      return;
    case 'welcome':
      state.runId = event.run.runId;
      addLog(state, `signed in as ${event.address}; run ${event.run.runId}`);
      return;
    case 'ready':
      addLog(state, `ready with ${event.examples} examples`);
      return;
    case 'training':
      state.round = event.round;
      state.stage = 'training';
      return;
    case 'submitted':
      state.awaitingRounds.push(event.round);
      state.stage = 'submitted';
      addLog(state, `round ${event.round}: submitted`);
      return;
    case 'cancelled':
      // Over-selection: the round closed without this tab; its training for it stopped.
      if (state.stage === 'training') state.stage = 'waiting';
      addLog(state, `round ${event.round}: cancelled (${event.reason})`);
      return;
    case 'secagg':
      state.round = event.round;
      state.stage = `secagg:${event.stage}`;
      return;
    case 'round': {
      const { summary } = event;
      const mine = state.awaitingRounds.indexOf(summary.round);
      // A round counts as contributed once it completed after this tab sent its update for it.
      if (mine >= 0) {
        state.awaitingRounds.splice(mine, 1);
        if (summary.status === 'completed') state.roundsContributed += 1;
      }
      if (summary.accuracy !== undefined) state.accuracy = summary.accuracy;
      if (summary.quality !== undefined) state.quality = summary.quality;
      if (state.stage === 'submitted') state.stage = 'waiting';
      addLog(state, `round ${summary.round} ${summary.status}${summary.accuracy === undefined ? '' : `, test accuracy ${(summary.accuracy * 100).toFixed(1)}%`}`);
      return;
    }
    case 'disconnected':
      state.connection = event.willRetry ? 'reconnecting' : 'disconnected';
      addLog(state, `disconnected (${event.code}${event.reason ? ` ${event.reason}` : ''})${event.willRetry ? '; reconnecting' : ''}`);
      return;
    case 'error':
      state.lastError = `${event.code}: ${event.message}`;
      addLog(state, `error ${event.code}: ${event.message}`);
      return;
    case 'run-end':
      state.connection = 'run ended';
      addLog(state, `run ended: ${event.reason}`);
      return;
  }
}
