/**
 * A worker's answer to `evaluate` (federated evaluation): the global model, as the coordinator
 * sent it, on the worker's held-out split. Runtime-neutral: the Node worker, the browser worker
 * and the simulator's training threads all use it.
 *
 * @example
 *   const { train, heldOut } = splitHeldOut(local, run.federatedEvaluation.heldOutFraction);
 *   // … train on `train` only; on `evaluate`:
 *   socket.send(encodeMessage(await answerEvaluate(model, heldOut, message)));
 */
import type * as tf from '@tensorflow/tfjs';
import type { LocalDataset } from '../data/dataset.js';
import { EVALUATION_TYPE, type EvaluateMessage, type EvaluationMessage } from '../protocol/evaluate.js';
import { evaluateModel } from './evaluate.js';
import { setFlatWeights } from './weights.js';

/** Loss and accuracy of `weights` on `heldOut`; overwrites the model's weights. */
export async function evaluateWeights(model: tf.LayersModel, heldOut: LocalDataset, weights: Float32Array): Promise<{ examples: number; loss: number; accuracy: number }> {
  if (heldOut.size === 0) return { examples: 0, loss: 0, accuracy: 0 };
  setFlatWeights(model, weights);
  const { examples, loss, accuracy } = await evaluateModel(model, heldOut, 500);
  return { examples, loss, accuracy };
}

export async function answerEvaluate(model: tf.LayersModel, heldOut: LocalDataset, message: EvaluateMessage): Promise<EvaluationMessage> {
  const result = await evaluateWeights(model, heldOut, message.weights);
  return { type: EVALUATION_TYPE, runId: message.runId, round: message.round, ...result };
}
