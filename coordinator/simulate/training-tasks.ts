/**
 * What the simulator's main thread and its training threads say to each other (train-thread.ts
 * runs them; thread-pool.ts carries them). A client is nothing but a list of example indices into
 * one shared copy of the training set, so a task names the indices, not the data.
 */
import type { ModelSpec, TrainConfig } from '../../core/protocol/messages.js';

/** Handed to every thread once. */
export interface TrainingThreadInit {
  model: ModelSpec;
  /** The whole training set, shared by every thread (bytes, scaled to [0, 1] per batch). */
  pixels: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  inputShape: number[];
  numClasses: number;
  /** With federated evaluation: each client's held-out share, never trained on. */
  heldOutFraction?: number | undefined;
}

export interface TrainingThreadInfo {
  backend: string;
}

export type TrainingTask =
  /** `flipLabels`: the labelflip adversary trains on y → (y + 1) mod classes. */
  | { kind: 'train'; weights: Float32Array; indices: Int32Array; config: TrainConfig; flipLabels?: boolean | undefined }
  | { kind: 'evaluate'; weights: Float32Array; indices: Int32Array };

export interface TrainOutcome {
  kind: 'train';
  /** Local weights minus the given weights. */
  delta: Float32Array;
  examples: number;
  steps: number;
  loss: number;
  accuracy: number;
  trainMs: number;
}

export interface EvaluateOutcome {
  kind: 'evaluate';
  examples: number;
  loss: number;
  accuracy: number;
}

export type TrainingOutcome = TrainOutcome | EvaluateOutcome;
