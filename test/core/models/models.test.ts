import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, modelUsesConv2D } from '../../../core/models/builtin.js';
import { buildLayersModel, modelInputShape, modelNumClasses } from '../../../core/models/layers-json.js';
import { CohortError } from '../../../core/protocol/errors.js';
import { parameterCount } from '../../../core/train/weights.js';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

function expectModelInvalid(fn: () => unknown, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CohortError);
    expect((err as CohortError).code).toBe('E_MODEL_INVALID');
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected E_MODEL_INVALID');
}

describe('built-in models', () => {
  it("builds McMahan's 2NN with 199,210 parameters", () => {
    const model = buildModel({ kind: 'builtin', name: '2nn' });
    expect(parameterCount(model)).toBe(199_210);
    expect(model.countParams()).toBe(199_210);
    expect(modelInputShape(model)).toEqual([28, 28, 1]);
    expect(modelNumClasses(model)).toBe(10);
    expect(modelUsesConv2D(model)).toBe(false);
    model.dispose();
  });

  it("builds McMahan's CNN with 1,663,370 parameters", () => {
    const model = buildModel({ kind: 'builtin', name: 'cnn' });
    expect(parameterCount(model)).toBe(1_663_370);
    expect(modelUsesConv2D(model)).toBe(true);
    model.dispose();
  });

  it('outputs a probability distribution over the classes', async () => {
    const model = buildModel({ kind: 'builtin', name: '2nn' });
    const probs = model.predict(tf.randomUniform([3, 28, 28, 1])) as tf.Tensor;
    expect(probs.shape).toEqual([3, 10]);
    const sums = await tf.sum(probs, -1).data();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('checks expectations about input shape and classes', () => {
    expectModelInvalid(() => buildModel({ kind: 'builtin', name: '2nn' }, { numClasses: 47 }), /10 classes/);
    expectModelInvalid(() => buildModel({ kind: 'builtin', name: 'cnn' }, { inputShape: [32, 32, 3] }), /shape/);
  });
});

describe('Layers JSON models', () => {
  function smallTopology(activation = 'softmax'): Record<string, unknown> {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: 'glorotUniform' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: activation as 'softmax' }),
      ],
    });
    const topology = m.toJSON(undefined, false) as Record<string, unknown>;
    m.dispose();
    return topology;
  }

  it('builds a Sequential topology like tfjs’s own loader does', async () => {
    const topology = smallTopology();
    const ours = buildLayersModel(JSON.parse(JSON.stringify(topology)) as Record<string, unknown>, { inputShape: [8, 8, 1], numClasses: 4 });
    const theirs = await tf.models.modelFromJSON({ modelTopology: JSON.parse(JSON.stringify(topology)) as tf.io.ModelJSON['modelTopology'] });
    expect(ours.layers.map((l) => l.getClassName())).toEqual(theirs.layers.map((l) => l.getClassName()));
    expect(ours.layers.map((l) => JSON.stringify(l.getConfig()))).toEqual(theirs.layers.map((l) => JSON.stringify(l.getConfig())));
    expect(parameterCount(ours)).toBe(parameterCount(theirs));
    // Same weights → same outputs.
    ours.setWeights(theirs.getWeights());
    const x = tf.randomUniform([2, 8, 8, 1]);
    const diff = tf.max(tf.abs(tf.sub(ours.predict(x) as tf.Tensor, theirs.predict(x) as tf.Tensor)));
    expect((await diff.data())[0]).toBeLessThan(1e-6);
    ours.dispose();
    theirs.dispose();
  });

  it('builds a functional model (layer names in node references survive)', () => {
    const input = tf.input({ shape: [5], name: 'my_input' });
    const hidden = tf.layers.dense({ units: 3, activation: 'relu', name: 'hidden_layer' }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'out_layer' }).apply(hidden) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    const topology = JSON.parse(JSON.stringify(m.toJSON(undefined, false))) as Record<string, unknown>;
    m.dispose();
    const model = buildLayersModel(topology);
    expect(model.layers.map((l) => l.name)).toEqual(['my_input', 'hidden_layer', 'out_layer']);
    expect(parameterCount(model)).toBe(5 * 3 + 3 + 3 * 2 + 2);
    model.dispose();
  });

  it('rejects malformed topologies with E_MODEL_INVALID', () => {
    expectModelInvalid(() => buildLayersModel({}), /class_name/);
    expectModelInvalid(() => buildLayersModel({ class_name: 'Sequential', config: 'nope' }));
    expectModelInvalid(() => buildLayersModel({ class_name: 'Bogus', config: {} }), /Bogus/);
    expectModelInvalid(() => buildLayersModel({ class_name: 'Sequential', config: { layers: [{ class_name: 'NoSuchLayer', config: {} }] } }));
    const topology = smallTopology();
    expectModelInvalid(() => buildLayersModel(topology, { inputShape: [28, 28, 1] }), /shape/);
    expectModelInvalid(() => buildLayersModel(smallTopology(), { numClasses: 10 }), /classes/);
  });

  it('requires a softmax output', () => {
    expectModelInvalid(() => buildLayersModel(smallTopology('linear')), /softmax/);
  });

  it('accepts the spec form through buildModel', () => {
    const model = buildModel({ kind: 'layers', topology: smallTopology() });
    expect(modelNumClasses(model)).toBe(4);
    model.dispose();
  });
});
