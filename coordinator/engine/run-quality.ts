/**
 * A run's contribution scoring (rewards.quality): the rule, the quality estimator (resumed from
 * the store's newest state, so a restarted coordinator scores as if never stopped) and the
 * held-out loss the scores are measured with. Scoring needs the coordinator's own held-out set:
 * federated evaluation would ask the very workers being scored to report their groups' worth.
 */
import { deriveSeed } from '../../core/data/random.js';
import { CohortError } from '../../core/protocol/errors.js';
import type { TrainConfig } from '../../core/protocol/messages.js';
import { QualityEstimator } from '../contribution/quality-estimator.js';
import { estimatorOptionsFor } from '../contribution/quality-rule.js';
import type { RunStore } from '../store/run-store.js';
import type { RunQuality } from './round-state.js';
import type { Evaluator } from './run-engine.js';
import type { RunConfig } from './run-config.js';

export function openRunQuality(
  config: RunConfig,
  store: RunStore,
  runId: string,
  evaluator: Evaluator | undefined,
): RunQuality | undefined {
  const rule = config.quality;
  if (!rule) return undefined;
  if (!evaluator) {
    throw new CohortError('E_CONFIG_INVALID', 'rewards.quality: contribution scoring needs the coordinator\'s held-out set (evaluation: mnist)');
  }
  const saved = store.quality.state(runId);
  const estimator = saved ? QualityEstimator.fromJSON(saved.state) : new QualityEstimator(estimatorOptionsFor(rule));
  const gradient = evaluator.lossGradient?.bind(evaluator);
  // The reference trains as the round's workers do (plain local SGD/Adam, no FedProx term), on its own seed per round.
  const train = (round: number): TrainConfig => ({ localEpochs: config.localEpochs, batchSize: config.batchSize, optimizer: config.optimizer, lr: config.lr, seed: deriveSeed(config.seed, round) });
  const referenceUpdate = evaluator.referenceUpdate
    ? (weights: Float32Array, round: number) => evaluator.referenceUpdate!(weights, train(round), rule.referenceExamples)
    : undefined;
  return { rule, estimator, evaluate: (weights) => evaluator.evaluate(weights), lossGradient: gradient, referenceUpdate };
}
