/**
 * Training steps per second (batch 32, Adam, the worker's own training step) of McMahan's 2NN
 * and CNN on every Node tfjs backend that loads here. The CNN is measured twice: with the
 * replacement Conv2D gradient (core/train/conv2d-filter-grad.ts, what workers use) and with
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

async function measure(spec: ModelSpec, gpu: boolean, fixed: boolean, settings: { budgetMs: number; maxSteps: number }): Promise<string> {
  if (fixed) registerConv2DFilterGradient();
  else unregisterConv2DFilterGradient();
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
      rows.push(`| ${name} | not available: ${loaded.reason} | | |`);
      continue;
    }
    const active = await activate(loaded.backend);
    if (!active.ok) {
      rows.push(`| ${name} | not available: ${active.reason} | | |`);
      continue;
    }
    const label = loaded.backend.adapter ? `${name} (${loaded.backend.adapter})` : name;
    console.error(`backends: measuring ${label}…`);
    const mlp = await measure(TWO_NN, loaded.backend.gpu, true, { budgetMs: 2_000, maxSteps: 50 });
    const cnnFixed = await measure(CNN, loaded.backend.gpu, true, { budgetMs: 5_000, maxSteps: 5 });
    const cnnOwn = await measure(CNN, loaded.backend.gpu, false, { budgetMs: 5_000, maxSteps: 5 });
    rows.push(`| ${label} | ${mlp} | ${cnnFixed} | ${cnnOwn} |`);
    console.error(`backends: ${label}: 2NN ${mlp}, CNN ${cnnFixed} (with fix), ${cnnOwn} (tfjs's own gradient)`);
  }
  return [
    'Batch 32, Adam, one warm-up step first; steps per second of the real worker training step.',
    'CNN columns: with the replacement Conv2D gradient (filter gradient as a forward conv2d) and with tfjs\'s own.',
    '',
    '| backend | 2NN (199,210 params) | CNN (1,663,370 params), Conv2D gradient fix | CNN, tfjs\'s own Conv2D gradient |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}
