/** Renders PageState into index.html's elements (text only: nothing from the wire becomes HTML). */
import { describeAdapter } from '../adapter.js';
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
