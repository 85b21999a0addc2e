/**
 * Step `broadcast`: after the commit, the world learns of the round: worker stats, the
 * `round-completed` event (CLI, dashboard, metrics) and the round summary to every ready worker.
 */
import { need, type RoundStep } from '../round-state.js';

export const broadcast: RoundStep = {
  name: 'broadcast',
  run(state, ctx) {
    const outcome = need(state.outcome, 'outcome', 'broadcast');
    const metrics = need(state.metrics, 'metrics', 'broadcast');
    const committed = need(state.committed, 'committed', 'broadcast');
    for (const c of committed.contributions) {
      const stat = ctx.stats.get(c.address);
      if (stat) {
        stat.roundsParticipated += 1;
        stat.examples += c.examples;
      }
    }
    const backends = [...new Set(outcome.survivors.map((s) => ctx.stats.get(s.address)?.backend ?? '?'))];
    ctx.emit({
      type: 'round-completed',
      runId: ctx.runId,
      round: state.round,
      participants: outcome.survivors.length,
      examples: committed.examples,
      accuracy: metrics.accuracy,
      loss: metrics.loss,
      trainLoss: committed.trainLoss,
      durationMs: committed.durationMs,
      dropped: outcome.dropped,
      stragglersCut: outcome.cut?.length ?? 0,
      ...(state.staleness ? { staleness: state.staleness.versions, group: state.staleness.group } : {}),
      backends,
    });
    const summary = {
      type: 'round' as const,
      runId: ctx.runId,
      round: state.round,
      status: 'completed' as const,
      participants: outcome.survivors.length,
      ...(metrics.accuracy === null ? {} : { accuracy: metrics.accuracy }),
      ...(metrics.loss === null ? {} : { loss: metrics.loss }),
    };
    // Under contribution scoring the dashboard gets every survivor's quality, and each survivor its own only.
    const qualities = new Map([...(state.scoring?.workers ?? [])].map(([address, q]) => [address, { estimate: q.estimate, confidence: q.confidence, factor: q.factor, flagged: q.flagged }]));
    if (qualities.size > 0) ctx.emit({ type: 'worker-quality', runId: ctx.runId, round: state.round, workers: [...qualities].map(([address, q]) => ({ address, ...q })) });
    for (const worker of ctx.readyWorkers()) {
      const quality = qualities.get(worker.channel.address);
      worker.channel.send(quality ? { ...summary, quality } : summary);
    }
    return undefined;
  },
};
