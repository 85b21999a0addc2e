/** `cohort worker`'s test-only slowdown: its parsing, and that a cancel cuts its sleep short. */
import { describe, expect, it } from 'vitest';
import { CohortError } from '../../core/protocol/errors.js';
import { slowdownPacer, testSlowdown } from '../../worker-node/test-hooks.js';

describe('test-only slowdown', () => {
  it('takes the flag, else COHORT_TEST_SLOWDOWN, and refuses a factor below 1', () => {
    expect(testSlowdown(undefined, undefined)).toBeUndefined();
    expect(testSlowdown('20', undefined)).toBe(20);
    expect(testSlowdown(undefined, '5')).toBe(5);
    expect(testSlowdown('2', '5')).toBe(2);
    for (const bad of ['0.5', 'slow', '-3']) {
      expect(() => testSlowdown(bad, undefined)).toThrow(CohortError);
      expect(() => testSlowdown(bad, undefined)).toThrow(/E_CLI_USAGE|--test-slowdown/);
    }
  });

  it('sleeps after a step until aborted: a cancel takes effect at once', async () => {
    const controller = new AbortController();
    // A step "took" a day: only the abort can end this sleep before the test's timeout.
    const sleeping = slowdownPacer(20, controller.signal)(86_400_000);
    controller.abort();
    await expect(sleeping).resolves.toBeUndefined();
    // Already aborted: no sleep at all.
    await expect(slowdownPacer(20, controller.signal)(86_400_000)).resolves.toBeUndefined();
  });
});
