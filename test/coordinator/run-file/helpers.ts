/** Helpers shared by the run-file tests. */
import { expect } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';

/** "CODE: message" of the CohortError `run` throws; fails the test when it does not throw one. */
export function codeAndMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CohortError);
    return `${(error as CohortError).code}: ${(error as CohortError).message}`;
  }
  throw new Error('accepted');
}
