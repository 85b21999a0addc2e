/** Renders PageState into index.html's elements (text only: nothing from the wire becomes HTML). */
import { describeAdapter } from '../adapter.js';
import { formatReward, type RewardsState } from './rewards.js';
import type { PageState } from './state.js';

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}`);
  return found as T;
}

function text(id: string, value: string): void {
  const node = el(id);
  if (node.textContent !== value) node.textContent = value;
}

export function render(state: PageState): void {
  el('secure-warning').hidden = state.secure;
  el('hidden-note').hidden = !(state.hidden && state.joined);
  renderConfirmation(state);

  text('connection', state.connection);
  text('coordinator', state.coordinatorUrl);
  text('run-id', state.runId ?? '–');
  const join = el<HTMLButtonElement>('join');
  join.textContent = state.joined ? 'Leave' : 'Join';
  join.classList.toggle('leave', state.joined);
  const error = el('last-error');
  error.hidden = state.lastError === undefined;
  text('last-error', state.lastError ?? '');

  text('backend', state.backend ? `${state.backend.backend}${state.backend.forced ? ' (forced)' : ''}` : state.joined ? 'measuring…' : 'chosen when you join');
  text('backend-reason', state.backend?.reason ?? '–');
  text('trained-on', state.trainedOn ?? '–');
  text('adapter', state.adapter ? describeAdapter(state.adapter) : state.adapterWhy ?? 'looking…');
  text('adapter-fallback', state.adapter ? (state.adapter.isFallbackAdapter ? 'yes (software rendering, no real GPU)' : 'no') : '–');
  text('isolated', state.crossOriginIsolated ? 'yes (wasm threads available)' : 'no (wasm runs on one thread)');

  text('round', state.round === undefined ? '–' : String(state.round));
  text('stage', state.stage);
  text('step', state.step === undefined ? '–' : String(state.step));
  text('accuracy', state.accuracy === undefined ? '–' : `${(state.accuracy * 100).toFixed(1)}%`);

  text('examples-trained', String(state.examplesTrained));
  text('rounds-contributed', String(state.roundsContributed));
  text('quality', qualityText(state.quality));
  text('address', state.address ?? '–');
  text('wallet-kind', state.wallet === 'injected' ? 'your wallet extension' : state.wallet === 'tab' ? 'made in this tab, stored in this browser' : '–');
  el('export-key').hidden = state.wallet !== 'tab';

  const local = state.localData;
  const using = state.data ? `Training on ${state.data.examples} ${state.data.source === 'demo-shard' ? 'demo MNIST examples (this tab\'s shard)' : 'of your own examples'}. ` : '';
  const stored = local ? `Stored in this browser: ${local.examples} examples from ${local.source}, ${local.classes} labels.` : 'No data of yours is stored.';
  text('data-summary', `${using}${stored}`);

  const log = el('log');
  if (log.childElementCount !== state.log.length || log.lastElementChild?.textContent !== state.log.at(-1)) {
    log.replaceChildren(...state.log.map((line) => Object.assign(document.createElement('li'), { textContent: line })));
    log.scrollTop = log.scrollHeight;
  }
}

/** The foreign-coordinator prompt (see params.ts): shown until the volunteer decides. */
function renderConfirmation(state: PageState): void {
  el('coordinator-confirm').hidden = !state.coordinatorUnconfirmed;
  if (!state.coordinatorUnconfirmed) return;
  text('confirm-foreign-url', state.coordinatorUrl);
  text('confirm-own-url', state.ownCoordinatorUrl);
  el('confirm-plain-note').hidden = state.requireSecureAggregation;
}

const REWARDS_NOTES: Record<RewardsState['status'], string> = {
  'no address': 'Join, or press Claim, to connect your wallet and see its rewards.',
  loading: 'Looking up this address on the run\'s ledger…',
  disabled: 'This run records no rewards.',
  none: 'Nothing recorded on chain for this address yet. Rewards appear once a round you took part in is recorded.',
  ready: '',
  unreachable: 'The coordinator could not be asked about rewards right now.',
};

/** The Rewards panel; amounts also go in data-wei, exact, for scripts and tests. */
export function renderRewards(rewards: RewardsState): void {
  const token = rewards.chain?.token;
  const amount = (id: string, wei: string | undefined): void => {
    text(id, formatReward(wei, token));
    el(id).dataset.wei = wei ?? '';
  };
  amount('rewards-earned', rewards.earned);
  amount('rewards-claimed', rewards.claimed);
  amount('rewards-claimable', rewards.claimable);
  const chain = rewards.chain;
  text('rewards-round', rewards.round === undefined ? '–' : rewards.round === 0 ? 'no round yet' : `round ${rewards.round}`);
  text('rewards-ledger', chain ? `run ${chain.run} of ${chain.ledger} on chain ${chain.chainId}` : '–');
  text('rewards-tx', rewards.txHash ?? '–');
  const note = rewards.status === 'ready' && rewards.claimed === undefined ? 'The coordinator could not read the chain just now: what was already paid is unknown.' : REWARDS_NOTES[rewards.status];
  el('rewards-note').hidden = note === '';
  text('rewards-note', note);
  const error = el('rewards-error');
  error.hidden = rewards.error === undefined;
  text('rewards-error', rewards.error ?? '');
  const claim = el<HTMLButtonElement>('rewards-claim');
  // Unknown claimable (chain unreadable by the coordinator) still may be claimed: the contract decides.
  claim.disabled = rewards.claiming || !(rewards.status === 'ready' || rewards.status === 'no address') || rewards.claimable === '0';
  claim.textContent = rewards.claiming ? 'Claiming…' : 'Claim';
  el('rewards-card').dataset.status = rewards.status;
  // Without a ledger there is nothing to count or claim: say so, and show no empty figures.
  el('rewards-body').hidden = rewards.status === 'disabled';
}

/** The tab's own quality score, as the coordinator's estimator has it. */
function qualityText(quality: PageState['quality']): string {
  if (!quality) return 'not scored (this run pays by declared work)';
  const credited = `${Math.round(quality.factor * 100)}% of your work credited last round`;
  const flag = quality.flagged ? '; flagged: your updates seem to make the model worse' : '';
  return `${quality.estimate.toFixed(2)} (confidence ${quality.confidence.toFixed(2)}; ${credited}${flag})`;
}
