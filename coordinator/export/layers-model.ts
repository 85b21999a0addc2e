/**
 * Writes a model as a tfjs LayersModel on disk, the format `tf.loadLayersModel` reads:
 *
 *   model.json             { format: 'layers-model', modelTopology, weightsManifest: [{ paths, weights }] }
 *   group1-shard1of1.bin   every weight, little-endian float32, in the manifest's order
 *
 * The artifacts come from tfjs's own serialisation (model.save through a handler), so names,
 * order and dtypes are exactly what its loader expects; only the file writing is ours (tfjs
 * writes `file://` only through tfjs-node, which cannot be installed here).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../core/models/builtin.js';
import { CohortError } from '../../core/protocol/errors.js';
import type { ModelSpec } from '../../core/protocol/messages.js';
import { setFlatWeights } from '../../core/train/weights.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'group1-shard1of1.bin';

/** Builds `spec`, loads `weights` into it and serialises it with tfjs. */
export async function layersArtifacts(spec: ModelSpec, weights: Float32Array): Promise<tf.io.ModelArtifacts> {
  const model = buildModel(spec);
  try {
    setFlatWeights(model, weights);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    if (!artifacts?.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) throw new CohortError('E_MODEL_INVALID', 'tfjs produced no model artifacts');
    return artifacts;
  } finally {
    model.dispose();
  }
}

/** Writes model.json and its one weight file into `dir` (created if needed); returns their paths. */
export function writeLayersModel(dir: string, artifacts: tf.io.ModelArtifacts, metadata?: Record<string, object>): string[] {
  if (!artifacts.weightData || !artifacts.weightSpecs || !artifacts.modelTopology) throw new CohortError('E_MODEL_INVALID', 'model artifacts without a topology or weights');
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const modelJson: tf.io.ModelJSON = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  };
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, MODEL_JSON);
  const binPath = join(dir, WEIGHTS_BIN);
  writeFileSync(binPath, weights);
  writeFileSync(jsonPath, `${JSON.stringify(modelJson)}\n`);
  return [jsonPath, binPath];
}
