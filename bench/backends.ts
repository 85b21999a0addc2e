/**
 * Training steps per second (batch 32, Adam, the worker's own training step) of McMahan's 2NN
 * and CNN on every Node tfjs backend that loads here. The CNN is measured three times: with the
 * replacement Conv2D gradient (core/train/conv2d-filter-grad.ts, what workers use); with only its
 * filter gradient, the input gradient left to conv2dTranspose (the code path before the stride-1
 * input gradient became a forward conv2d, so that change is measured in the same run); and with
 * tfjs's own, which needs a Conv2DBackpropFilter kernel (wasm has none).
 *
 * Slow cases get one step: a CNN step on plain-JS cpu with tfjs's own gradient takes minutes.
 */
import type { ModelSpec } from '../core/protocol/messages.js';
import { registerConv2DFilterGradient, unregisterConv2DFilterGradient } from '../core/train/conv2d-filter-grad.js';
import { benchmarkTrainingStep } from '../worker-node/backends/benchmark.js';
import { activate, AUTO_ORDER, firstLine, loadCandidate } from '../worker-node/backends/candidates.js';

const TWO_NN: ModelSpec = { kind: 'builtin', name: '2nn' };
const CNN: ModelSpec = { kind: 'builtin', name: 'cnn' };

function format(stepsPerSecond: number): string {
  if (stepsPerSecond >= 10) return stepsPerSecond.toFixed(0);
  if (stepsPerSecond >= 1) return stepsPerSecond.toFixed(1);
  return stepsPerSecond.toPrecision(2);
}

type Gradient = 'fix' | 'filter-only' | 'tfjs';

async function measure(spec: ModelSpec, gpu: boolean, gradient: Gradient, settings: { budgetMs: number; maxSteps: number }): Promise<string> {
  if (gradient === 'tfjs') unregisterConv2DFilterGradient();
  else registerConv2DFilterGradient({ forwardInputGradient: gradient === 'fix' });
  try {
    const r = await benchmarkTrainingStep(spec, { ...settings, gpu });
    return `${format(r.stepsPerSecond)}${r.steps <= 1 ? ` (${r.steps === 0 ? 1 : r.steps} step)` : ''}`;
  } catch (err) {
    const message = firstLine(err);
    const kernel = /Kernel '(\w+)' not registered/.exec(message);
    return kernel ? `cannot train: no ${kernel[1]} kernel` : `failed: ${message.slice(0, 120)}`;
  } finally {
    registerConv2DFilterGradient();
  }
}

export async function run(): Promise<string> {
  const rows: string[] = [];
  for (const name of AUTO_ORDER) {
    const loaded = await loadCandidate(name);
    if (!loaded.ok) {
      rows.push(`| ${name} | not available: ${loaded.reason} | | | |`);
      continue;
    }
    const active = await activate(loaded.backend);
    if (!active.ok) {
      rows.push(`| ${name} | not available: ${active.reason} | | | |`);
      continue;
    }
    const label = loaded.backend.adapter ? `${name} (${loaded.backend.adapter})` : name;
    console.error(`backends: measuring ${label}…`);
    const mlp = await measure(TWO_NN, loaded.backend.gpu, 'fix', { budgetMs: 2_000, maxSteps: 50 });
    const cnnFixed = await measure(CNN, loaded.backend.gpu, 'fix', { budgetMs: 5_000, maxSteps: 5 });
    const cnnFilterOnly = await measure(CNN, loaded.backend.gpu, 'filter-only', { budgetMs: 5_000, maxSteps: 5 });
    const cnnOwn = await measure(CNN, loaded.backend.gpu, 'tfjs', { budgetMs: 5_000, maxSteps: 5 });
    rows.push(`| ${label} | ${mlp} | ${cnnFixed} | ${cnnFilterOnly} | ${cnnOwn} |`);
    console.error(`backends: ${label}: 2NN ${mlp}, CNN ${cnnFixed} (with fix), ${cnnFilterOnly} (filter gradient only), ${cnnOwn} (tfjs's own gradient)`);
  }
  return [
    'Batch 32, Adam, one warm-up step first; steps per second of the real worker training step.',
    'CNN columns: with the replacement Conv2D gradient (filter gradient, and the stride-1 input gradient, as forward conv2ds: what workers use);',
    'with the filter gradient only (the input gradient by conv2dTranspose: the code path before the input-gradient change); and with tfjs\'s own.',
    '',
    '| backend | 2NN (199,210 params) | CNN (1,663,370 params), Conv2D gradient fix | CNN, filter gradient only (before) | CNN, tfjs\'s own Conv2D gradient |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
