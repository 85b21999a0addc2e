/**
 * Custom models as a tfjs Layers topology: the `modelTopology` of a model.json (Keras-style,
 * snake_case keys), as written by `model.toJSON()` or the tfjs converter. Built synchronously, with
 * the same key conversion tfjs's own loader applies, so a spec can be turned into a model anywhere
 * a built-in one can. Weights are not part of a spec: the coordinator sends them each round.
 */
import * as tf from '@tensorflow/tfjs';
import { CohortError } from '../protocol/errors.js';

/** A full weight vector must fit one default 64 MiB frame (4 bytes per parameter). */
export const MAX_MODEL_PARAMETERS = 15_000_000;

export interface ModelExpectation {
  /** Shape of one example, e.g. [28, 28, 1]. */
  inputShape?: readonly number[];
  numClasses?: number;
}

function invalid(message: string, cause?: unknown): never {
  throw new CohortError('E_MODEL_INVALID', message, cause === undefined ? undefined : { cause });
}

function snakeToCamel(identifier: string): string {
  if (identifier.length <= 1 || !identifier.includes('_')) return identifier;
  return identifier.replace(/_+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}

/** Layer names inside node references must survive unchanged, or connections would break. */
const NAME_LIST_KEYS = new Set(['inboundNodes', 'outputLayers', 'inputLayers']);

/** Keras JSON → the camelCase config tfjs classes read (keys and string values, but not names). */
function pythonicToTs(value: unknown, key?: string): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return snakeToCamel(value);
  if (Array.isArray(value)) {
    return value.map((item: unknown, i) =>
      key !== undefined && NAME_LIST_KEYS.has(key) && i === 0 && typeof item === 'string' ? item : pythonicToTs(item, key),
    );
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'name' && typeof v === 'string') out[k] = v;
      else {
        const tsKey = snakeToCamel(k);
        out[tsKey] = pythonicToTs(v, tsKey);
      }
    }
    return out;
  }
  return invalid(`unsupported value of type ${typeof value} in the model topology`);
}

/** Shape of one example the model takes (without the batch dimension). */
export function modelInputShape(model: tf.LayersModel): number[] {
  const input = model.inputs[0];
  if (model.inputs.length !== 1 || input === undefined) invalid(`the model must have exactly one input, has ${model.inputs.length}`);
  const dims = input.shape.slice(1);
  if (dims.length === 0 || dims.some((d) => d === null || !Number.isInteger(d) || d < 1)) {
    invalid(`the model's input shape [${input.shape.map(String).join(', ')}] must be fully known apart from the batch`);
  }
  return dims as number[];
}

/** Number of classes of the model's softmax output. */
export function modelNumClasses(model: tf.LayersModel): number {
  const output = model.outputs[0];
  if (model.outputs.length !== 1 || output === undefined) invalid(`the model must have exactly one output, has ${model.outputs.length}`);
  const [, classes, ...rest] = output.shape;
  if (rest.length > 0 || typeof classes !== 'number' || classes < 2) {
    invalid(`the model's output shape [${output.shape.map(String).join(', ')}] must be [batch, classes] with at least 2 classes`);
  }
  return classes;
}

function endsInSoftmax(model: tf.LayersModel): boolean {
  // The layer that produced the output (Sequential leaves `outputLayers` empty, outputs are set).
  const layer = model.outputs[0]?.sourceLayer;
  if (layer === undefined) return false;
  if (layer.getClassName() === 'Softmax') return true;
  if (layer instanceof tf.LayersModel) return endsInSoftmax(layer);
  // Dense, Conv, Activation… all keep their activation under this key.
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return activation === 'softmax';
}

/** Checks that `model` is a single-input classifier with a softmax output, matching `expect`. */
export function checkModelShape(model: tf.LayersModel, expect: ModelExpectation = {}): void {
  const inputShape = modelInputShape(model);
  const classes = modelNumClasses(model);
  if (!endsInSoftmax(model)) invalid('the model must end in a softmax over classes (loss and accuracy assume probabilities)');
  if (expect.inputShape !== undefined && inputShape.join(',') !== expect.inputShape.join(',')) {
    invalid(`the model takes inputs of shape [${inputShape.join(', ')}], the data has [${expect.inputShape.join(', ')}]`);
  }
  if (expect.numClasses !== undefined && classes !== expect.numClasses) {
    invalid(`the model outputs ${classes} classes, expected ${expect.numClasses}`);
  }
  const params = model.countParams();
  if (params > MAX_MODEL_PARAMETERS) invalid(`the model has ${params} parameters, more than the limit of ${MAX_MODEL_PARAMETERS}`);
}

/** Builds a randomly initialised model from a Layers topology; E_MODEL_INVALID on any problem. */
export function buildLayersModel(topology: Record<string, unknown>, expect: ModelExpectation = {}): tf.LayersModel {
  // A full Keras save wraps the architecture in `model_config`, as tfjs's loader accepts too.
  const raw = (topology.model_config ?? topology) as Record<string, unknown> | null;
  if (raw === null || typeof raw !== 'object' || typeof raw.class_name !== 'string' || typeof raw.config !== 'object' || raw.config === null) {
    invalid('a Layers topology needs "class_name" and "config" (the modelTopology of a model.json)');
  }
  const className = raw.class_name;
  // structuredClone: fromConfig mutates the config it is given.
  const config = pythonicToTs(structuredClone(raw.config)) as tf.serialization.ConfigDict;
  let model: tf.LayersModel;
  try {
    if (className === 'Sequential') model = tf.Sequential.fromConfig<tf.Sequential>(tf.Sequential, config);
    else if (className === 'Model' || className === 'Functional') model = tf.LayersModel.fromConfig<tf.LayersModel>(tf.LayersModel, config);
    else invalid(`unsupported model class ${JSON.stringify(className)}; expected Sequential, Model or Functional`);
  } catch (err) {
    if (err instanceof CohortError) throw err;
    invalid(`cannot build the model: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, err);
  }
  try {
    checkModelShape(model, expect);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
