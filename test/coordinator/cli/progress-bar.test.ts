import { describe, expect, it } from 'vitest';
import { ProgressBar, trackRounds } from '../../../coordinator/cli/progress-bar.js';
import { FakeEngine } from '../dashboard/fake-engine.js';

function terminal(isTTY: boolean, columns = 100): { out: string[]; stream: { write(t: string): void; isTTY: boolean; columns: number } } {
  const out: string[] = [];
  return { out, stream: { write: (t) => void out.push(t), isTTY, columns } };
}

describe('ProgressBar', () => {
  it('draws nothing when not on a TTY (pipes, --json) and prints logged lines plainly', () => {
    const { out, stream } = terminal(false);
    const bar = new ProgressBar({ total: 10, stream });

    bar.update(3);
    bar.log('round 3 done');
    bar.finish();

    expect(bar.enabled).toBe(false);
    expect(out).toEqual(['round 3 done\n']);
  });

  it('draws in place on a TTY, with the ETA, and keeps logged lines above it', () => {
    let now = 0;
    const { out, stream } = terminal(true);
    const bar = new ProgressBar({ total: 4, label: 'rounds', stream, width: 8, minIntervalMs: 0, now: () => now });

    now = 10_000;
    bar.update(1, 'accuracy 80.00%');
    expect(bar.render()).toBe('rounds [██░░░░░░]  1/4   25%  eta 30s  accuracy 80.00%');
    expect(out.at(-1)).toBe('\r\x1b[K' + bar.render());
    bar.log('worker left');
    expect(out.slice(-3)).toEqual(['\r\x1b[K', 'worker left\n', '\r\x1b[K' + bar.render()]);
    bar.update(4);
    bar.finish('completed');
    expect(out.at(-2)).toBe('\r\x1b[Krounds [████████]  4/4  100%  completed');
    expect(out.at(-1)).toBe('\n');
  });

  it('lets a logger on another stream write above the bar', () => {
    const { out, stream } = terminal(true);
    const logs: string[] = [];
    const bar = new ProgressBar({ total: 2, stream, minIntervalMs: 0, now: () => 0 });
    bar.update(1);

    bar.above({ write: (t) => void logs.push(t) }).write('12:00:00.000 INFO  worker joined\n');

    expect(logs).toEqual(['12:00:00.000 INFO  worker joined\n']);
    expect(out.slice(-2)).toEqual(['\r\x1b[K', '\r\x1b[K' + bar.render()]);
  });

  it('never wraps a narrow terminal and throttles redraws', () => {
    let now = 0;
    const { out, stream } = terminal(true, 30);
    const bar = new ProgressBar({ total: 100, label: 'rounds', stream, now: () => now });

    for (let i = 1; i <= 50; i++) bar.update(i, 'a long note that does not fit in thirty columns');
    expect(out).toHaveLength(1);
    now = 500;
    bar.update(51);
    expect(out).toHaveLength(2);
    expect([...out[1]!.replace('\r\x1b[K', '')].length).toBeLessThanOrEqual(29);
  });

  it('follows a run: one step per completed round, the state while waiting, the end', () => {
    const { out, stream } = terminal(true);
    const engine = new FakeEngine('run-1');
    const bar = new ProgressBar({ total: 3, stream, minIntervalMs: 0, now: () => 0 });
    trackRounds(engine, bar);

    engine.emit({ type: 'run-started', runId: 'run-1', resumedAfterRound: 1, parameterCount: 10 });
    engine.emit({ type: 'waiting', runId: 'run-1', round: 2, ready: 1, needed: 2 });
    expect(bar.render()).toMatch(/1\/3 .*waiting for workers 1\/2$/);
    engine.emit({ type: 'round-completed', runId: 'run-1', round: 2, participants: 2, examples: 1, accuracy: 0.5, loss: 1, trainLoss: 1, durationMs: 1, dropped: [], backends: [] });
    expect(bar.render()).toMatch(/2\/3 .*accuracy 50\.00%$/);
    engine.emit({ type: 'run-ended', runId: 'run-1', status: 'stopped', reason: 'by request' });
    expect(out.at(-2)).toMatch(/stopped: by request$/);
    expect(out.at(-1)).toBe('\n');
  });
});
