/**
 * The simulated fleet's clock. Training runs on the pool as fast as it can, but each client's
 * reply is HELD until its simulated finish time (start + work × speed factor × base step time) is
 * the earliest still outstanding; replies are then released one at a time, in order of simulated
 * finish, and `now` jumps to each released finish time. So the engine sees replies in the order a
 * real fleet would send them (slow clients really arrive late, over-selection really cuts them),
 * and `now` is the fleet time a real fleet would have taken, without sleeping for it.
 *
 * Conservative release: a reply may go only when no outstanding entry finishes earlier, even if
 * that one is still training on the pool. Entries are registered when the client's `train` message
 * arrives (the engine sends one round's messages together, long before any training ends).
 * SecAgg+ stages and the coordinator's own work cost no simulated time: while it is busy with a
 * closed round, `pause()` holds every release (async-pacer.ts), so replies finishing later cannot
 * move `now` past the close before the coordinator has sent out its next work.
 */

interface Entry {
  finish: number;
  ready: boolean;
  release: () => void;
  tag?: ReleaseTag | undefined;
}

/** What a released entry was: a client's reply for `round`, or its vanishing mid-round. */
export interface ReleaseTag {
  round: number;
  kind: 'reply' | 'vanish';
}

/** Real milliseconds between two releases, so the engine handles one reply (and may cancel the rest) before the next. */
const RELEASE_GAP_MS = 2;

/** Told of every entry registered and released, synchronously (async-pacer.ts listens). */
export interface ClockListener {
  onHold?(tag: ReleaseTag): void;
  onRelease?(tag: ReleaseTag, finish: number): void;
}

export class FleetClock {
  private current = 0;
  private readonly pending = new Set<Entry>();
  private releasing = false;
  private pauses = 0;
  listener: ClockListener | undefined;
  /** Finish times of released entries, by round (fleet-report.ts reads them to time rounds). */
  readonly released = new Map<number, Array<{ kind: ReleaseTag['kind']; finish: number }>>();

  /** Simulated seconds since the run started. */
  get now(): number {
    return this.current;
  }

  /**
   * Resolves with `work`'s value once `seconds` of simulated time from now is this client's turn.
   * An abort (the round was cancelled, or the client stopped) withdraws the entry and rejects.
   */
  hold<T>(seconds: number, work: Promise<T>, signal?: AbortSignal, tag?: ReleaseTag): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let value: T;
      const entry: Entry = { finish: this.current + Math.max(0, seconds), ready: false, release: () => resolve(value), tag };
      this.pending.add(entry);
      if (tag) this.listener?.onHold?.(tag);
      const withdraw = (reason: unknown): void => {
        if (!this.pending.delete(entry)) return;
        reject(reason);
        this.pump();
      };
      signal?.addEventListener('abort', () => withdraw(signal.reason), { once: true });
      work.then(
        (v) => {
          value = v;
          entry.ready = true;
          this.pump();
        },
        withdraw,
      );
    });
  }

  /**
   * Sets the clock to when a round really closed. A reply released after the round's closing one
   * (a straggler released before its cancel reached it) must not count as fleet time.
   */
  settle(at: number): void {
    if (this.pending.size === 0) this.current = at;
  }

  /** Holds every release until the returned function is called (once; later calls do nothing). */
  pause(): () => void {
    this.pauses++;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.pauses--;
      this.pump();
    };
  }

  /** Releases the earliest entry if it is ready, then (after a short real pause) looks again. */
  private pump(): void {
    if (this.releasing || this.pauses > 0) return;
    let earliest: Entry | undefined;
    for (const entry of this.pending) if (!earliest || entry.finish < earliest.finish) earliest = entry;
    if (!earliest?.ready) return;
    this.pending.delete(earliest);
    this.current = Math.max(this.current, earliest.finish);
    if (earliest.tag) {
      const list = this.released.get(earliest.tag.round) ?? [];
      list.push({ kind: earliest.tag.kind, finish: earliest.finish });
      this.released.set(earliest.tag.round, list);
    }
    this.releasing = true;
    earliest.release();
    if (earliest.tag) this.listener?.onRelease?.(earliest.tag, earliest.finish);
    setTimeout(() => {
      this.releasing = false;
      this.pump();
    }, RELEASE_GAP_MS);
  }
}
