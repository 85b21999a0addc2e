/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"), capped. */
export function backoffDelayMs(attempt: number, baseMs = 250, capMs = 10_000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}
