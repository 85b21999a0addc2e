/**
 * Test-only knobs of `cohort worker`, for whole-system tests of a heterogeneous fleet and of
 * cheating workers. None has any use in production; README ("Test-only worker settings") says so.
 *
 * - Slowdown (`--test-slowdown F` or COHORT_TEST_SLOWDOWN=F): every local step takes F× as long,
 *   by sleeping (F − 1) × the step's measured time after it. A cancel cuts the sleep short.
 * - Freeloader (`--test-freeloader` or COHORT_TEST_FREELOADER=1): the worker does not train; it
 *   declares the examples an honest round over its data would process and sends a zero delta,
 *   the cheapest cheat on a declared-work reward (contribution scoring must starve it).
 * - Update record (COHORT_TEST_RECORD_UPDATES=DIR): after each round's training, the global
 *   weights and this worker's delta are written to DIR, so a test can compute plaintext FedAvg
 *   over a securely aggregated round's survivors. It writes private updates to disk: tests only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CohortError } from '../core/protocol/errors.js';

/** The slowdown factor from the flag, else the environment; undefined (none) when neither is set. */
export function testSlowdown(flag: string | undefined, env: string | undefined = process.env.COHORT_TEST_SLOWDOWN): number | undefined {
  const raw = flag ?? env;
  if (raw === undefined || raw === '') return undefined;
  const factor = Number(raw);
  if (!Number.isFinite(factor) || factor < 1 || factor > 10_000) {
    throw new CohortError('E_CLI_USAGE', `--test-slowdown (or COHORT_TEST_SLOWDOWN): expected a factor from 1 to 10000, got '${raw}'`);
  }
  return factor;
}

/** Whether this worker is the test-only freeloader, from the flag or COHORT_TEST_FREELOADER=1. */
export function testFreeloader(flag: boolean, env: string | undefined = process.env.COHORT_TEST_FREELOADER): boolean {
  return flag || env === '1';
}

/** `afterStep` for trainLocally: sleep (factor − 1) × the step's time, waking at once on abort. */
export function slowdownPacer(factor: number, signal: AbortSignal): (stepMs: number) => Promise<void> {
  return (stepMs) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, stepMs * (factor - 1));
      signal.addEventListener('abort', done, { once: true });
    });
}

/** Where COHORT_TEST_RECORD_UPDATES asks updates to be recorded; undefined normally. */
export function updateRecordDir(env: string | undefined = process.env.COHORT_TEST_RECORD_UPDATES): string | undefined {
  return env === undefined || env === '' ? undefined : env;
}

/** Writes DIR/<address>-round-<n>.{global,delta}.f32 and .json (examples, steps). */
export function recordUpdate(dir: string, address: string, round: number, global: Float32Array, delta: Float32Array, meta: { examples: number; steps: number }): void {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${address}-round-${round}`);
  writeFileSync(`${base}.global.f32`, Buffer.from(global.buffer, global.byteOffset, global.byteLength));
  writeFileSync(`${base}.delta.f32`, Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength));
  writeFileSync(`${base}.json`, JSON.stringify({ address, round, ...meta }));
}
