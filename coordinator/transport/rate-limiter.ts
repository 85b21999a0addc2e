/** A fixed-window message counter per connection: cheap, and enough to stop a flood. */
export class RateLimiter {
  private windowStart = 0;
  private count = 0;

  constructor(
    private readonly maxPerWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one message; false when the connection is over its limit. */
  take(now = Date.now()): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count += 1;
    return this.count <= this.maxPerWindow;
  }
}
