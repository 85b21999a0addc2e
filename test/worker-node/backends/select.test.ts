import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import { activate } from '../../../worker-node/backends/candidates.js';
import { selectBackend } from '../../../worker-node/backends/select.js';

const quick = { budgetMs: 150, maxSteps: 3 };

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** A tiny conv model as a Layers topology: trains in milliseconds on any backend. */
function tinyConvSpec(): { kind: 'layers'; topology: Record<string, unknown> } {
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  const topology = JSON.parse(JSON.stringify(m.toJSON(undefined, false))) as Record<string, unknown>;
  m.dispose();
  return { kind: 'layers', topology };
}

describe('selectBackend', () => {
  it('auto: measures what loads, picks the fastest, and says why the others were skipped', async () => {
    const lines: string[] = [];
    const selection = await selectBackend({ requested: 'auto', model: { kind: 'builtin', name: '2nn' }, log: (l) => lines.push(l), benchmark: quick });
    expect(['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']).toContain(selection.backend);
    expect(selection.name).toBe(selection.backend);
    expect(tf.getBackend()).toBe(selection.tfjsBackend);
    expect(selection.stepsPerSecond).toBeGreaterThan(0);
    // Every candidate is accounted for, either measured or skipped with a reason.
    expect(selection.candidates.map((c) => c.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']);
    for (const c of selection.candidates) {
      expect(c.stepsPerSecond !== undefined || (c.skipped ?? '').length > 0).toBe(true);
      if (c.name !== selection.name && c.skipped === undefined) expect(c.stepsPerSecond!).toBeLessThanOrEqual(selection.stepsPerSecond! * (c.estimate ? 2 : 1));
    }
    for (const pkg of ['tfjs-node-gpu', 'tfjs-node'] as const) {
      if (!installed(`@tensorflow/${pkg}`)) {
        expect(selection.candidates.find((c) => c.name === pkg)?.skipped).toBe('not installed');
        expect(selection.reason).toContain(`${pkg}: not installed`);
      }
    }
    // wasm and cpu always load in Node, so both were measured.
    expect(selection.candidates.find((c) => c.name === 'wasm')?.stepsPerSecond).toBeGreaterThan(0);
    expect(selection.candidates.find((c) => c.name === 'cpu')?.stepsPerSecond).toBeGreaterThan(0);
    expect(selection.reason).toMatch(new RegExp(`^${selection.name}: [0-9.]+ steps/s \\(fastest of `));
    expect(lines.at(-1)).toBe(`backend: ${selection.reason}`);
  });

  it('forcing a backend that is not installed gives E_BACKEND_UNAVAILABLE', async () => {
    if (installed('@tensorflow/tfjs-node-gpu')) return; // nothing to prove where it exists
    const before = tf.getBackend();
    const err = await selectBackend({ requested: 'tfjs-node-gpu', model: { kind: 'builtin', name: '2nn' }, benchmark: quick }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CohortError);
    expect((err as CohortError).code).toBe('E_BACKEND_UNAVAILABLE');
    expect((err as Error).message).toMatch(/tfjs-node-gpu.*not installed/);
    expect(tf.getBackend()).toBe(before);
  });

  it('forced wasm trains a conv model thanks to the replacement gradient', async () => {
    const selection = await selectBackend({ requested: 'wasm', model: tinyConvSpec(), benchmark: quick });
    expect(selection.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.reason).toMatch(/^wasm: [0-9.]+ steps\/s \(requested explicitly\)$/);
  });

  it('forced cpu', async () => {
    const selection = await selectBackend({ requested: 'cpu', model: tinyConvSpec(), benchmark: quick });
    expect(selection.tfjsBackend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an invalid model is reported as such, not as a backend problem', async () => {
    const bad = { kind: 'layers' as const, topology: { class_name: 'Sequential', config: { layers: [{ class_name: 'NoSuchLayer', config: {} }] } } };
    await expect(selectBackend({ requested: 'cpu', model: bad, benchmark: quick })).rejects.toMatchObject({ code: 'E_MODEL_INVALID' });
  });

  it('an unknown backend name is refused', async () => {
    await expect(selectBackend({ requested: 'webgl' as 'cpu', model: { kind: 'builtin', name: '2nn' } })).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' });
  });
});

describe('activate', () => {
  it('notices when tf.setBackend fails instead of carrying on with another backend', async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
    tf.registerBackend('cohort-test-broken', () => {
      throw new Error('boom');
    });
    const result = await activate({ name: 'cpu', tfjsBackend: 'cohort-test-broken', gpu: false });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(/returned false|boom/);
    tf.removeBackend('cohort-test-broken');
    const missing = await activate({ name: 'cpu', tfjsBackend: 'cohort-test-missing', gpu: false });
    expect(missing.ok).toBe(false);
  });
});
