/**
 * `npm run bench -- browser`, the part that runs in the tab's Web Worker: steps per second of the
 * real training step (core/train/step.ts) per model and backend, batch 32, one untimed warm-up step
 * first. bench/browser.ts drives it through puppeteer and prints the table.
 */
import { MNIST_CLASSES, MNIST_INPUT_SHAPE } from '../../../core/models/builtin.js';
import type { BenchmarkRequest, BenchmarkRow } from '../bridge.js';
import { activate, measureTrainStep, prepareBackends, syntheticBatch } from './backends.js';

export async function runBenchmark(request: BenchmarkRequest, onRow: (row: BenchmarkRow) => void): Promise<BenchmarkRow[]> {
  prepareBackends(request.wasmPaths);
  const batch = syntheticBatch(MNIST_INPUT_SHAPE, MNIST_CLASSES, 32);
  const rows: BenchmarkRow[] = [];
  for (const model of request.models) {
    const steps = request.steps[model] ?? 3;
    for (const backend of request.backends) {
      let row: BenchmarkRow;
      try {
        await activate(backend);
        // No time budget: exactly `steps` timed steps, so slow backends are measured too.
        const stepsPerSecond = await measureTrainStep({ kind: 'builtin', name: model }, batch, { maxSteps: steps, budgetMs: Number.POSITIVE_INFINITY });
        row = { model, backend, stepsPerSecond, note: `${steps} timed step${steps === 1 ? '' : 's'}` };
      } catch (error) {
        row = { model, backend, stepsPerSecond: null, note: (error instanceof Error ? error.message : String(error)).slice(0, 200) };
      }
      rows.push(row);
      onRow(row);
    }
  }
  return rows;
}
