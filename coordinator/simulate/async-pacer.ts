/**
 * Keeps the fleet clock honest in async mode. A group closes, in fleet time, at the reply that
 * fills it (its `closeAfter`-th); the coordinator then unmasks, applies and commits it and forms
 * new groups from the freed workers, all in real time that should cost no fleet time. Left alone,
 * the clock would go on releasing replies that finish later (the group's own stragglers, whose
 * cancel has not reached them yet, and other groups' replies) while the coordinator works, and
 * the new groups would start at whatever time that had reached: on the example fleet a group
 * that filled at 13.8 s handed its workers on at 49.6 s.
 *
 * So from the filling reply on, the clock is paused until the coordinator is done with the group
 * (its version is committed, or it failed or was refused) and every member of the groups started
 * since then has registered its training with the clock. Sync rounds need none of this: nothing
 * else is in flight when a round closes, and FleetRounds settles the clock at the round's close.
 */
import type { EngineEvent } from '../engine/events.js';
import { closeAfterResults } from '../engine/over-selection.js';
import type { RunConfig } from '../engine/run-config.js';
import { secureAggregationFor } from '../engine/secure-config.js';
import type { ClockListener, FleetClock, ReleaseTag } from './fleet-clock.js';

/** Real milliseconds to wait for the coordinator before letting the clock go anyway (a group that never closes must not stall the run). */
const STALL_MS = 20_000;

interface Group {
  /** Replies that close the group. */
  closeAfter: number;
  replies: number;
  /** Members selected, and how many of them have registered their training with the clock. */
  members: number;
  registered: number;
}

/** The replies after which a group of `members` workers closes: the collect step's own rule. */
export function groupCloseAfter(config: RunConfig, members: number): number {
  const groupConfig = { ...config, clientsPerRound: config.bufferSize ?? config.clientsPerRound };
  return closeAfterResults(groupConfig, members, secureAggregationFor(groupConfig, members)?.secagg.threshold);
}

export class AsyncPacer implements ClockListener {
  private readonly groups = new Map<number, Group>();
  /** The group whose close paused the clock, until the coordinator is done with it. */
  private closing: { group: number; resume: () => void; settled: boolean; startedSince: number[]; stall: NodeJS.Timeout } | undefined;

  constructor(
    private readonly clock: FleetClock,
    private readonly config: RunConfig,
  ) {
    clock.listener = this;
  }

  /** Feed every engine event. */
  readonly onEvent = (event: EngineEvent): void => {
    if (event.type === 'round-started') {
      this.groups.set(event.round, { closeAfter: groupCloseAfter(this.config, event.selected.length), replies: 0, members: event.selected.length, registered: 0 });
      this.closing?.startedSince.push(event.round);
    } else if (event.type === 'round-completed' && event.group !== undefined) {
      this.processed(event.group);
    } else if (event.type === 'round-failed') {
      this.processed(event.round);
    } else if (event.type === 'run-ended') {
      this.resume();
    }
  };

  onHold(tag: ReleaseTag): void {
    const group = this.groups.get(tag.round);
    if (group) group.registered++;
    this.maybeResume();
  }

  onRelease(tag: ReleaseTag): void {
    if (tag.kind !== 'reply') return;
    const group = this.groups.get(tag.round);
    if (!group || ++group.replies !== group.closeAfter || this.closing) return;
    const resume = this.clock.pause();
    this.closing = { group: tag.round, resume, settled: false, startedSince: [], stall: setTimeout(() => this.resume(), STALL_MS) };
  }

  private processed(groupId: number): void {
    this.groups.delete(groupId);
    const closing = this.closing;
    if (closing?.group !== groupId) return;
    // The runner forms its next groups right after the version is committed; give their
    // `round-started` a moment, then wait for their members' training to register.
    setTimeout(() => {
      closing.settled = true;
      this.maybeResume();
    }, 20);
  }

  private maybeResume(): void {
    const closing = this.closing;
    if (!closing?.settled) return;
    const waiting = closing.startedSince.some((id) => {
      const group = this.groups.get(id);
      return group !== undefined && group.registered < group.members;
    });
    if (!waiting) this.resume();
  }

  private resume(): void {
    const closing = this.closing;
    if (!closing) return;
    this.closing = undefined;
    clearTimeout(closing.stall);
    closing.resume();
  }
}
