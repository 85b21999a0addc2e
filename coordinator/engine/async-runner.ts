/**
 * Asynchronous buffered aggregation (FedBuff, Nguyen et al. 2022) with secure aggregation: no
 * worker waits for a round to end. Whenever enough workers are free, they are formed into a
 * GROUP that trains on the current model version; every free worker is in some group, so a fast
 * worker is back in a new group as soon as its last one is summed. A group is collected like a
 * round (steps select → configure → collect → observe-speed → aggregate → check, the same code):
 * under SecAgg+ it is one SecAgg+ instance over its members, closing at `bufferSize` masked
 * inputs (the rest are its stragglers, cut as over-selection cuts them), so the coordinator
 * sees only the group's sum, and one sum has one staleness: every member started from the same
 * version. Groups run concurrently, each with its own collector, messages routed by the group id
 * they carry (`round` on the wire).
 *
 * A collected group is applied in the order groups finish: its average delta Δ (the strategy's
 * new model minus the version it started from), weighted by staleness s = versions applied since
 * it started, is added to the CURRENT model, x ← x + Δ / √(1 + s), and that is the next model
 * version; a group more than maxStaleness versions behind is refused. Each applied group then
 * runs evaluate → commit → broadcast as a round does, under the version's number: a model
 * version is a round in the store, the dashboard, /metrics and the ledger (one recorded round
 * per applied buffer). A failed group (too few members in time, a SecAgg+ failure) is not
 * retried: its members are free again and join the next group.
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { ReadyWorker } from '../transport/channel.js';
import { stalenessWeight } from './async-config.js';
import { runRoundSteps, type RoundKind } from './round-kinds.js';
import type { RoundContext, RoundState } from './round-state.js';
import { selectionSize } from './over-selection.js';
import { aggregate } from './steps/aggregate.js';
import { broadcast } from './steps/broadcast.js';
import { check } from './steps/check.js';
import { collect } from './steps/collect.js';
import { commit } from './steps/commit.js';
import { configure } from './steps/configure.js';
import { evaluate } from './steps/evaluate.js';
import { observeSpeedStep } from './steps/observe-speed.js';
import { select } from './steps/select.js';

/** A group, from its forming to its sum: the round's first steps, over the group's own members. */
export const ASYNC_GROUP: RoundKind = [select, configure, collect, observeSpeedStep, aggregate, check];
/** An applied group becomes a model version: the round's last steps. */
export const ASYNC_VERSION: RoundKind = [evaluate, commit, broadcast];

/** What the async loop needs of the engine. */
export interface AsyncHost {
  readonly ctx: RoundContext;
  /** The current model version's number (rounds committed) and weights. */
  version(): number;
  global(): Float32Array;
  /** Ready workers, in a stable order. */
  ready(): ReadyWorker[];
  /** True once the run should end: its rounds are done, its target reached, or it was stopped. */
  done(): boolean;
  /** Resolves when a worker becomes ready, the run is resumed or stopped (or after `ms`). */
  waitForChange(ms: number): Promise<void>;
  readonly paused: () => boolean;
  /** Cancels every open collection (the groups still training when the run ends). */
  cancelGroups(reason: string): void;
}

interface GroupRun {
  id: number;
  startVersion: number;
  members: Set<string>;
  state: RoundState;
  result: Promise<{ group: GroupRun; failure: string | undefined }>;
}

/** Free workers a new group needs: ⌈bufferSize × overSelect⌉ (at least bufferSize). */
function groupSize(ctx: RoundContext): number {
  const k = ctx.config.bufferSize;
  if (k === undefined) throw new CohortError('E_INTERNAL', 'async mode without bufferSize');
  return selectionSize({ clientsPerRound: k, overSelect: ctx.config.overSelect }) ?? k;
}

/** The context a group's steps run in: its own candidates, and bufferSize as the round's size. */
function groupContext(host: AsyncHost, candidates: ReadyWorker[]): RoundContext {
  const k = host.ctx.config.bufferSize!;
  const config = { ...host.ctx.config, clientsPerRound: k, minClients: Math.min(host.ctx.config.minClients, k) };
  return { ...host.ctx, config, readyWorkers: () => candidates };
}

/** Why the async loop ended before the run was done: groups kept failing, or the ε budget is spent. */
export interface AsyncEnd {
  status: 'failed' | 'budget';
  reason: string;
}

/**
 * Why no further group may start under differential privacy: each group still training will
 * spend one sampling event when its sum is noised, so those count against the budget too.
 */
function privacyBlocks(host: AsyncHost, inFlight: Map<number, GroupRun>): string | undefined {
  const unspent = [...inFlight.values()].filter((g) => g.state.aggregate === undefined).length;
  const check = host.ctx.privacy?.checkNextRound(unspent);
  return check && !check.ok ? check.reason : undefined;
}

/**
 * Runs versions until the run is done. Returns what ended it early (undefined when it ran out of
 * rounds, reached its target or was stopped).
 */
export async function runAsyncVersions(host: AsyncHost): Promise<AsyncEnd | undefined> {
  const inFlight = new Map<number, GroupRun>();
  const busy = (): Set<string> => new Set([...inFlight.values()].flatMap((g) => [...g.members]));
  let nextGroup = 1;
  let consecutiveFailures = 0;
  const needed = groupSize(host.ctx);
  const firstVersion = host.version();
  while (!host.done()) {
    // Form groups from the free workers, as many as they fill, up to the ramp: one group more
    // per version applied, so the first groups do not all start from (and overshoot) the same model.
    let free = host.paused() ? [] : host.ready().filter((w) => !busy().has(w.channel.address));
    const limit = Math.min(host.ctx.config.maxConcurrentGroups ?? Number.POSITIVE_INFINITY, host.version() - firstVersion + 1);
    let blocked = privacyBlocks(host, inFlight);
    while (blocked === undefined && free.length >= needed && inFlight.size < limit) {
      const group = startGroup(host, nextGroup++, free);
      inFlight.set(group.id, group);
      free = free.filter((w) => !group.members.has(w.channel.address));
      blocked = privacyBlocks(host, inFlight);
    }
    // The ε budget is spent once no group is left whose sum could still be used.
    if (blocked !== undefined && inFlight.size === 0) return { status: 'budget', reason: blocked };
    // Wait for a group to be summed, or for a worker to come (or the run to stop or resume).
    const change = host.waitForChange(inFlight.size === 0 ? 1_000 : 60_000).then(() => undefined);
    const finished = await Promise.race([...[...inFlight.values()].map((g) => g.result), change]);
    if (finished === undefined) continue;
    const { group, failure } = finished;
    inFlight.delete(group.id);
    const outcome = failure ?? (await applyGroup(host, group));
    if (outcome === undefined) {
      consecutiveFailures = 0;
      continue;
    }
    host.ctx.emit({ type: 'round-failed', runId: host.ctx.runId, round: group.id, attempt: 1, reason: `group ${group.id}: ${outcome}`, willRetry: false });
    // As a sync run stops after maxRoundRetries + 1 failed attempts of one round.
    if (++consecutiveFailures > host.ctx.config.maxRoundRetries && host.ctx.stopReason() === undefined) {
      for (const g of inFlight.values()) g.state.rollback?.();
      return { status: 'failed', reason: `${consecutiveFailures} groups in a row failed (last: ${outcome})` };
    }
  }
  // Groups still training when the run ends are cancelled with it.
  if (inFlight.size > 0) host.cancelGroups('the run has its last version');
  await Promise.allSettled([...inFlight.values()].map((g) => g.result));
  return undefined;
}

function startGroup(host: AsyncHost, id: number, free: ReadyWorker[]): GroupRun {
  const startedAt = Date.now();
  const state: RoundState = { round: id, attempt: 1, startedAt, deadline: startedAt + host.ctx.config.roundTimeoutMs, global: host.global() };
  const ctx = groupContext(host, free);
  // `select` is deterministic: the members are known before the steps run.
  const group: GroupRun = { id, startVersion: host.version(), members: new Set(), state, result: undefined as never };
  const steps = runRoundSteps(ASYNC_GROUP, state, ctx);
  group.result = steps.then((failure) => ({ group, failure }));
  for (const w of state.selected ?? []) group.members.add(w.channel.address);
  return group;
}

/** Applies a collected group as the next model version; returns why it was refused, if it was. */
async function applyGroup(host: AsyncHost, group: GroupRun): Promise<string | undefined> {
  const staleness = host.version() - group.startVersion;
  if (staleness > host.ctx.config.maxStaleness) return `refused: ${staleness} versions stale (maxStaleness ${host.ctx.config.maxStaleness})`;
  const { state } = group;
  const next = state.next;
  if (!next) throw new CohortError('E_INTERNAL', `group ${group.id} was collected without a next model`);
  const current = host.global();
  const weight = stalenessWeight(staleness);
  const applied = new Float32Array(current.length);
  for (let i = 0; i < applied.length; i++) applied[i] = current[i]! + weight * (next[i]! - state.global[i]!);
  const version = host.version() + 1;
  const versionState: RoundState = { ...state, round: version, global: current, next: applied, staleness: { versions: staleness, weight, group: group.id } };
  return runRoundSteps(ASYNC_VERSION, versionState, host.ctx);
}
