/**
 * Coalesces DOM work into one animation frame: however many deltas arrive between two frames,
 * each view renders at most once per frame. Tasks are keyed, so scheduling twice is free.
 */
export class FrameScheduler {
  private readonly pending = new Map<string, () => void>();
  private requested = false;

  schedule(key: string, task: () => void): void {
    this.pending.set(key, task);
    if (this.requested) return;
    this.requested = true;
    requestAnimationFrame(() => this.run());
  }

  private run(): void {
    this.requested = false;
    const tasks = [...this.pending.values()];
    this.pending.clear();
    for (const task of tasks) {
      try {
        task();
      } catch (error) {
        // One broken view must not stop the others from rendering.
        console.warn('dashboard render failed', error);
      }
    }
  }
}
