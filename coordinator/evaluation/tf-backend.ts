/**
 * The coordinator's own tfjs backend, for building the initial model and evaluating each round:
 * wasm (SIMD) where it loads, else cpu. `tf.setBackend` reports failure through its return value,
 * not by throwing, so it is checked: tfjs would otherwise carry on silently on cpu.
 */
import * as tf from '@tensorflow/tfjs';

let chosen: Promise<string> | undefined;

export function useCoordinatorBackend(): Promise<string> {
  chosen ??= (async () => {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) return 'wasm';
    } catch {
      // fall through to cpu
    }
    if (!(await tf.setBackend('cpu'))) throw new Error('no tfjs backend could be initialised');
    return 'cpu';
  })();
  return chosen;
}
