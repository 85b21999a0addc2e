/**
 * Step `commit`: the round, its credited contributions, its checkpoint and the strategy's server
 * state go into the store in ONE transaction, with the ledger's outbox row (onRoundCommit); a
 * throw there rolls all of it back. Contributions are the declared work clamped to the run's
 * per-worker bound, so a worker cannot farm rewards by declaring more examples than it can have.
 */
import type { RunStore } from '../../store/run-store.js';
import { need, type RoundCommit, type RoundScoring, type RoundStep } from '../round-state.js';
import { assignedMaxWork } from '../round-work.js';
import { creditedWork } from '../work-bound.js';

export const commit: RoundStep = {
  name: 'commit',
  run(state, ctx) {
    const plan = need(state.plan, 'plan', 'commit');
    const outcome = need(state.outcome, 'outcome', 'commit');
    const next = need(state.next, 'next', 'commit');
    const metrics = need(state.metrics, 'metrics', 'commit');
    // Capped at the work each was assigned too (its maxLocalSteps × batchSize under targetRoundSeconds).
    const maxWorkOf = assignedMaxWork(plan);
    const credited = outcome.survivors.map((s) => ({ survivor: s, examples: creditedWork(s.examples, maxWorkOf(s.address)) }));
    const examples = credited.reduce((n, c) => n + c.examples, 0);
    const trainLoss = credited.reduce((n, c) => n + c.survivor.trainLoss * c.examples, 0) / Math.max(1, examples);
    // A worker's declared examples already count every local epoch (it reports examples processed),
    // so the credited work is that count: multiplying by localEpochs again would count epochs twice.
    // Under a quality rule (step `score`), the reward counts declared work × the worker's quality factor.
    const factorOf = (address: string) => (ctx.quality ? (state.scoring?.workers.get(address)?.factor ?? 0) : 1);
    const contributions: RoundCommit['contributions'] = credited.map((c) => ({
      address: c.survivor.address,
      examples: c.examples,
      amount: Math.floor(c.examples * factorOf(c.survivor.address)),
    }));
    const durationMs = Date.now() - state.startedAt;
    ctx.store.completeRound(
      {
        runId: ctx.runId,
        round: state.round,
        completedAt: Date.now(),
        durationMs,
        participants: outcome.survivors.length,
        examples,
        accuracy: metrics.accuracy,
        loss: metrics.loss,
        trainLoss,
        secure: plan.secure !== undefined,
      },
      contributions,
      next,
      () => {
        // The server optimizer's state commits with the round, so a resumed run continues with it.
        const strategyState = ctx.strategy.state?.();
        if (strategyState) ctx.store.saveStrategyState(ctx.runId, state.round, strategyState);
        if (ctx.quality) recordScoring(ctx.store, ctx.runId, state.round, state.scoring, ctx.quality.estimator.toJSON());
        const scoring = ctx.quality && { observation: state.scoring?.observation, rule: ctx.quality.rule, estimator: ctx.quality.estimator.settings };
        ctx.onRoundCommit?.({ runId: ctx.runId, round: state.round, contributions, weights: next, scoring });
      },
    );
    ctx.adopt(state.round, next, metrics);
    state.committed = { durationMs, examples, trainLoss, contributions };
    return undefined;
  },
};

/** The round's group scores, each survivor's quality and the estimator's state, in the round's transaction. */
function recordScoring(store: RunStore, runId: string, round: number, scoring: RoundScoring | undefined, estimatorState: unknown): void {
  const groups = (scoring?.groups ?? []).map((g, groupIndex) => ({ groupIndex, members: g.members, marginal: g.marginal, norm: g.norm, cosine: g.cosine, totalWeight: g.totalWeight }));
  const workers = [...(scoring?.workers ?? new Map())].map(([address, q]) => ({ address, ...q }));
  store.quality.recordRound(runId, round, groups, workers);
  store.quality.saveState(runId, round, estimatorState);
}
