/**
 * `cohort export`: a run's final model, or any stored checkpoint, as a tfjs LayersModel, with the
 * run's config and metrics beside it, so the folder alone says what the model is and how it got
 * there:
 *
 *   DIR/model.json, DIR/group1-shard1of1.bin   load with tf.loadLayersModel
 *   DIR/run.json                               run id, round, status, config, per-round metrics
 *
 * @example
 *   const result = await exportRun({ storePath: 'runs.sqlite', outDir: 'model' });
 *   // in tfjs: await tf.loadLayersModel('https://…/model/model.json')
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CohortError } from '../../core/protocol/errors.js';
import { modelSpecSchema } from '../../core/protocol/messages.js';
import { useCoordinatorBackend } from '../evaluation/tf-backend.js';
import { RunStore } from '../store/run-store.js';
import { assertStoreExists, findCheckpoint } from './checkpoint.js';
import { layersArtifacts, writeLayersModel } from './layers-model.js';

export const RUN_JSON = 'run.json';

export interface ExportOptions {
  storePath: string;
  /** Default: the store's newest run. */
  runId?: string | undefined;
  /** Default: the newest checkpoint (the final model of a finished run). */
  round?: number | undefined;
  outDir: string;
}

export interface ExportResult {
  runId: string;
  round: number;
  /** Whether `round` is the run's last completed round. */
  final: boolean;
  parameters: number;
  files: string[];
}

export async function exportRun(options: ExportOptions): Promise<ExportResult> {
  assertStoreExists(options.storePath);
  const store = new RunStore(options.storePath);
  try {
    const { run, round, weights } = findCheckpoint(store, options.runId, options.round);
    const config = run.config as { model?: unknown };
    const spec = modelSpecSchema.safeParse(config.model);
    if (!spec.success) throw new CohortError('E_STORE', `run ${run.id}: its stored config names no model this version can build`);
    await useCoordinatorBackend();
    const artifacts = await layersArtifacts(spec.data, weights);
    const lastRound = store.lastCompletedRound(run.id);
    const files = writeLayersModel(options.outDir, artifacts, { cohort: { runId: run.id, round } });
    const record = {
      format: 'cohort-export/1',
      runId: run.id,
      round,
      final: round === lastRound && run.status !== 'running',
      status: run.status,
      endReason: run.endReason,
      createdAt: new Date(run.createdAt).toISOString(),
      endedAt: run.endedAt === null ? null : new Date(run.endedAt).toISOString(),
      exportedAt: new Date().toISOString(),
      parameters: weights.length,
      config: run.config,
      rounds: store.rounds(run.id),
      failures: store.roundFailures(run.id),
    };
    const runJson = join(options.outDir, RUN_JSON);
    writeFileSync(runJson, `${JSON.stringify(record, null, 2)}\n`);
    return { runId: run.id, round, final: record.final, parameters: weights.length, files: [...files, runJson] };
  } finally {
    store.close();
  }
}
