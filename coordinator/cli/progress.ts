/** One human-readable line per engine event, for `cohort serve` and `cohort demo`. */
import type { EngineEvent } from '../engine/events.js';

const short = (address: string): string => `${address.slice(0, 6)}…${address.slice(-4)}`;
const pct = (x: number | null): string => (x === null ? '   n/a' : `${(x * 100).toFixed(2)}%`);

export function formatEvent(event: EngineEvent, totalRounds: number): string | undefined {
  switch (event.type) {
    case 'run-started':
      return event.resumedAfterRound > 0
        ? `run ${event.runId}: resuming after round ${event.resumedAfterRound} (${event.parameterCount.toLocaleString('en-US')} parameters)`
        : `run ${event.runId}: ${event.parameterCount.toLocaleString('en-US')} parameters, ${totalRounds} rounds`;
    case 'waiting':
      return `round ${event.round}: waiting for workers (${event.ready}/${event.needed} ready)`;
    case 'round-started':
    case 'stage-completed':
      return undefined;
    case 'round-completed': {
      const dropped = event.dropped.length ? `, dropped ${event.dropped.map((d) => short(d.address)).join(' ')}` : '';
      const loss = event.loss === null ? '' : `  loss ${event.loss.toFixed(4)}`;
      return `round ${String(event.round).padStart(String(totalRounds).length)}/${totalRounds}  accuracy ${pct(event.accuracy)}${loss}  workers ${event.participants}  ${(event.durationMs / 1000).toFixed(1)} s  backends ${event.backends.join(',')}${dropped}`;
    }
    case 'round-failed':
      return `round ${event.round} failed (attempt ${event.attempt}): ${event.reason}${event.willRetry ? '; retrying' : ''}`;
    case 'worker-ready':
      return `worker ${short(event.address)} (${event.kind}) ready on ${event.backend.backend}: ${event.examples} examples`;
    case 'worker-left':
      return `worker ${short(event.address)} left: ${event.reason}`;
    case 'run-paused':
      return `run ${event.runId} paused: no new round starts until it is resumed`;
    case 'run-resumed':
      return `run ${event.runId} resumed`;
    case 'run-ended':
      return `run ${event.status}: ${event.reason}`;
  }
}
