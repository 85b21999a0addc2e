/**
 * Step `configure`: what each selected worker does this round and by which rules the round is
 * summed. The strategy sees the candidates and returns per-worker instructions (Flower's
 * configure_fit); the engine adds each worker's own shuffling seed and the round's differential
 * privacy. Secure aggregation's parameters come from the run's configuration alone, never from
 * what workers declared.
 *
 * With targetRoundSeconds, each worker's instructions are then fitted to its estimated speed
 * (round-work.ts) and carry its FedNova share (fednova.ts); `work-assigned` tells the dashboard
 * and /metrics what each worker was given.
 */
import type { TrainConfig } from '../../../core/protocol/messages.js';
import { suggestedSecAggClipRange, type DpRoundPlan } from '../../privacy/dp-round.js';
import type { RoundCandidate } from '../../strategy/strategy.js';
import type { ReadyWorker } from '../../transport/channel.js';
import { need, type RoundContext, type RoundPlan, type RoundStep } from '../round-state.js';
import { secureAggregationFor } from '../secure-config.js';
import { fedNovaShare } from '../fednova.js';
import { stepsAllowed, stepsForTarget } from '../round-work.js';
import { maxRoundWork } from '../work-bound.js';

export const configure: RoundStep = {
  name: 'configure',
  run(state, ctx) {
    const selected = need(state.selected, 'selected', 'configure');
    const config = ctx.config;
    const secure = secureAggregationFor(config, selected.length);
    const privacy = ctx.privacy;
    const dp = privacy?.plan(secure ? secure.secagg.threshold : 1);
    if (secure && privacy && dp) secure.secagg.clipRange = privacy.secAggClipRange(dp, secure.secagg.clipRange);
    const maxWork = maxRoundWork(config);
    const assignments = assign(state.round, selected, ctx, dp);
    const fitted = config.targetRoundSeconds === undefined ? assignments : fitToTarget(assignments, ctx, config.targetRoundSeconds, maxWork);
    reportWork(state.round, fitted, ctx);
    state.plan = {
      assignments: fitted,
      updateLength: state.global.length + (dp?.extraValues ?? 0),
      maxWork,
      // Secure weights are normalised to (0, 1]; plain ones are examples, or 1 under DP.
      maxWeight: secure || dp ? 1 : maxWork,
      coordinateBound: coordinateBound(secure?.secagg.clipRange, dp),
      dp,
      secure,
    } satisfies RoundPlan;
    return undefined;
  },
};

/** The strategy's per-worker instructions, for the selected workers it named. */
function assign(round: number, selected: readonly ReadyWorker[], ctx: RoundContext, dp: DpRoundPlan | undefined): RoundPlan['assignments'] {
  const config = ctx.config;
  const base: TrainConfig = {
    localEpochs: config.localEpochs,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    lr: config.lr,
    maxLocalSteps: config.maxLocalSteps,
    seed: 0,
  };
  const byAddress = new Map(selected.map((w) => [w.channel.address, w]));
  const candidates: RoundCandidate[] = selected.map((w) => ({ address: w.channel.address, kind: w.channel.kind, backend: w.backend.backend, examples: w.examples }));
  const assignments: Array<{ worker: ReadyWorker; config: TrainConfig }> = [];
  for (const instruction of ctx.strategy.configureRound(round, candidates, base)) {
    const worker = byAddress.get(instruction.address);
    if (!worker) continue; // a strategy can only give work to the round's candidates
    byAddress.delete(instruction.address);
    assignments.push({
      worker,
      config: {
        ...instruction.config,
        // Each worker shuffles differently, but reproducibly.
        seed: (config.seed * 31 + round * 1_009 + hashAddress(instruction.address)) | 0,
        ...(dp ? { dp: dp.client } : {}),
      },
    });
  }
  return assignments;
}

/**
 * targetRoundSeconds: each worker's maxLocalSteps fits its speed estimate (at most the strategy's
 * cap and what its data allows, within the run's per-worker bound), and its FedNova share.
 */
function fitToTarget(assignments: RoundPlan['assignments'], ctx: RoundContext, targetSeconds: number, maxWork: number): RoundPlan['assignments'] {
  return assignments.map(({ worker, config }) => {
    const examples = Math.min(worker.examples, ctx.config.maxExamplesPerWorker);
    const allowed = stepsAllowed(config, examples);
    const speed = ctx.stats.get(worker.channel.address)?.stepsPerSecond;
    const steps = speed === undefined ? allowed : stepsForTarget(targetSeconds, speed, allowed);
    return { worker, config: { ...config, maxLocalSteps: steps, fedNova: { weightExamples: fedNovaShare(config, worker.examples, maxWork) } } };
  });
}

/** Records each worker's assignment in its stats and tells observers (dashboard, /metrics). */
function reportWork(round: number, assignments: RoundPlan['assignments'], ctx: RoundContext): void {
  const workers = assignments.map(({ worker, config }) => {
    const stats = ctx.stats.get(worker.channel.address);
    if (stats) stats.assignedSteps = config.maxLocalSteps;
    return { address: worker.channel.address, stepsPerSecond: stats?.stepsPerSecond ?? null, maxLocalSteps: config.maxLocalSteps ?? null };
  });
  ctx.emit({ type: 'work-assigned', runId: ctx.runId, round, workers });
}

/**
 * The bound on every coordinate of one contributor's value that the path guarantees: SecAgg+
 * clips each coordinate to its clip range when it quantizes, whatever the worker sends. A plain
 * round has a bound only under differential privacy with central noise: every worker must clip
 * its update to L2 norm C (so each coordinate to C) and its adaptive bit is ±½, so a sum outside
 * it means a worker did not. Under distributed DP workers add their own noise, and without DP
 * nothing bounds a plain delta: the check then holds the sum to being finite.
 */
function coordinateBound(secureClipRange: number | undefined, dp: DpRoundPlan | undefined): number {
  if (secureClipRange !== undefined) return secureClipRange;
  const noiseFree = dp !== undefined && dp.client.noiseStd === 0 && (dp.client.adaptive?.indicatorNoiseStd ?? 0) === 0;
  return noiseFree ? suggestedSecAggClipRange(dp) : Number.POSITIVE_INFINITY;
}

function hashAddress(address: string): number {
  let h = 2_166_136_261;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 16_777_619);
  return h >>> 0;
}
