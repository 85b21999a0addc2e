/**
 * Opens the run a coordinator serves: the store's unfinished run, resumed after its last completed
 * round from that round's checkpoint (its stored config wins over the flags), or a new run from
 * `config`. Everything here happens before the coordinator listens, so a bad config or a store
 * that disagrees with itself stops the start without a socket ever opening.
 */
import { randomUUID } from 'node:crypto';
import { CohortError } from '../../core/protocol/errors.js';
import { DEFAULT_HELD_OUT_FRACTION } from '../../core/protocol/evaluate.js';
import { parseRunConfig, type RunConfig } from '../engine/run-config.js';
import { RunPrivacy } from '../engine/run-privacy.js';
import { checkSecureAggregation } from '../engine/secure-config.js';
import { FederatedEvaluation } from '../evaluation/federated.js';
import { loadMnistTestSet } from '../evaluation/mnist-test-set.js';
import { ModelHost } from '../evaluation/model-host.js';
import type { RunStore } from '../store/run-store.js';
import { createStrategy } from '../strategy/create-strategy.js';
import { assertCompatibleWithSecureAggregation } from '../strategy/secure-compatibility.js';
import type { Strategy } from '../strategy/strategy.js';

export interface OpenedRun {
  readonly runId: string;
  readonly config: RunConfig;
  readonly strategy: Strategy;
  readonly privacy: RunPrivacy | undefined;
  readonly host: ModelHost;
  readonly initialWeights: Float32Array;
  /** 0 for a new run. */
  readonly resumedAfterRound: number;
  readonly federatedEvaluation: FederatedEvaluation | undefined;
}

export async function openRun(store: RunStore, requested: RunConfig): Promise<OpenedRun> {
  const unfinished = store.unfinishedRun();
  const config = unfinished ? parseRunConfig(unfinished.config) : requested;
  const runId = unfinished?.id ?? config.runId ?? newRunId();
  checkSecureAggregation(config);
  const strategy = createStrategy(config.strategy);
  assertCompatibleWithSecureAggregation(strategy, config.secureAggregation !== false);
  // A resumed run goes on from the ε it already spent (saved whenever a noised sum was produced).
  const privacy = RunPrivacy.create(config, strategy, unfinished ? store.privacyState(runId) : undefined);
  if (!unfinished) store.createRun(runId, { ...config, runId });
  privacy?.persistWith((state) => store.savePrivacyState(runId, state));

  const testSet = config.evaluation === 'mnist' ? await loadMnistTestSet() : undefined;
  const host = await ModelHost.create(config.model, testSet);
  const checkpoint = unfinished ? store.latestCheckpoint(runId) : undefined;
  const resumedAfterRound = checkpoint?.round ?? 0;
  if (unfinished && store.lastCompletedRound(runId) !== resumedAfterRound) {
    throw new CohortError('E_STORE', `run ${runId}: last completed round and newest checkpoint disagree`);
  }
  const initialWeights = checkpoint?.weights ?? (await host.initialWeights());
  const strategyState = checkpoint ? store.strategyState(runId, checkpoint.round) : undefined;
  if (strategyState) strategy.restore?.(strategyState);
  return { runId, config, strategy, privacy, host, initialWeights, resumedAfterRound, federatedEvaluation: federatedEvaluationOf(config) };
}

function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
}

function federatedEvaluationOf(config: RunConfig): FederatedEvaluation | undefined {
  if (config.evaluation !== 'federated') return undefined;
  const settings = config.federatedEvaluation;
  return new FederatedEvaluation(
    {
      heldOutFraction: settings?.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION,
      clients: settings?.clients ?? config.clientsPerRound,
      timeoutMs: settings?.timeoutMs ?? 60_000,
    },
    config.seed,
  );
}
