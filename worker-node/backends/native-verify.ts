/**
 * Child process of `cohort setup-native`: loads the freshly built tfjs-node (or -gpu) binding and
 * trains one step of the 2NN on it. Prints one JSON line; exit 0 only when the step ran on the
 * `tensorflow` backend. A child, because a binding built against the wrong library may crash.
 *
 * Usage: node --import tsx worker-node/backends/native-verify.ts tfjs-node|tfjs-node-gpu
 */
import { selectBackend } from './select.js';

const name = process.argv[2] === 'tfjs-node-gpu' ? 'tfjs-node-gpu' : 'tfjs-node';
try {
  const selection = await selectBackend({ requested: name, model: { kind: 'builtin', name: '2nn' }, benchmark: { maxSteps: 5, budgetMs: 500 } });
  console.log(JSON.stringify({ ok: selection.tfjsBackend === 'tensorflow', backend: selection.name, stepsPerSecond: selection.stepsPerSecond }));
  process.exitCode = selection.tfjsBackend === 'tensorflow' ? 0 : 1;
} catch (err) {
  console.log(JSON.stringify({ ok: false, reason: err instanceof Error ? err.message : String(err) }));
  process.exitCode = 1;
}
