/** What the run engine tells the world (CLI progress lines, dashboard, metrics). */
import type { BackendReport, WorkerKind } from '../../core/protocol/messages.js';

export type EngineEvent =
  | { type: 'run-started'; runId: string; resumedAfterRound: number; parameterCount: number }
  | { type: 'waiting'; runId: string; round: number; ready: number; needed: number }
  | { type: 'round-started'; runId: string; round: number; attempt: number; selected: string[]; deadline: number }
  | {
      type: 'round-completed';
      runId: string;
      round: number;
      participants: number;
      examples: number;
      accuracy: number | null;
      loss: number | null;
      trainLoss: number | null;
      durationMs: number;
      dropped: Array<{ address: string; reason: string }>;
      /** Over-selection: selected workers the round closed without (cancelled stragglers). */
      stragglersCut?: number;
      /** Async mode: versions the applied group lagged behind (its update counted 1/√(1 + staleness)). */
      staleness?: number;
      /** Async mode: the id of the group applied as this version (the `round` its own events carried). */
      group?: number;
      backends: string[];
    }
  | { type: 'stage-completed'; runId: string; round: number; stage: string; seconds: number }
  /** A round's instructions were made: each worker's speed estimate (steps/s) and its maxLocalSteps (null: uncapped). */
  | { type: 'work-assigned'; runId: string; round: number; workers: Array<{ address: string; stepsPerSecond: number | null; maxLocalSteps: number | null }> }
  /** A scored round committed (rewards.quality): each survivor's quality estimate, confidence, the factor it was credited at, and whether it is flagged. */
  | { type: 'worker-quality'; runId: string; round: number; workers: Array<{ address: string; estimate: number; confidence: number; factor: number; flagged: boolean }> }
  | { type: 'round-failed'; runId: string; round: number; attempt: number; reason: string; willRetry: boolean }
  | { type: 'worker-ready'; address: string; kind: WorkerKind; backend: BackendReport; examples: number }
  | { type: 'worker-left'; address: string; reason: string }
  | { type: 'run-paused'; runId: string }
  | { type: 'run-resumed'; runId: string }
  | { type: 'run-ended'; runId: string; status: 'completed' | 'failed' | 'stopped'; reason: string };

export type EngineListener = (event: EngineEvent) => void;
