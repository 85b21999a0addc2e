/**
 * The engine's "something changed" signal: a worker became ready, the run was resumed or asked
 * to stop. Whoever waits (the sync loop for enough workers, the async loop for free ones) wakes
 * on the next signal, or after a timeout.
 */
export class WakeSignal {
  private readonly waiters = new Set<() => void>();

  /** Resolves on the next signal(), or after `ms` (never, without one). */
  wait(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  signal(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
