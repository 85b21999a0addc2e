// Attack (issue 13, 8): another local user reads the run store (who took part, their rewards,
// the model). The store and its -wal / -shm sidecars are 0600 from creation, after writes, and
// when a store made 0644 by older code is opened again.
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore } from '../../coordinator/store/run-store.js';

const modeOf = (file: string): number => statSync(file).mode & 0o777;

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cohort-mode-'));
  path = join(dir, 'run.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('run store file mode', () => {
  it('creates the store and its sidecar files 0600, and they stay so after writes', () => {
    const store = new RunStore(path);
    expect(modeOf(path)).toBe(0o600);

    store.createRun('r1', { rounds: 1 });
    store.completeRound(
      { runId: 'r1', round: 1, completedAt: 1, durationMs: 1, participants: 1, examples: 1, accuracy: null, loss: null, trainLoss: null, secure: false },
      [{ address: '0xabc', examples: 1, amount: 1 }],
      Float32Array.from([1, 2, 3]),
    );
    store.openSession({ id: 's1', runId: 'r1', address: '0xabc', kind: 'node', connectedAt: 1 });

    // WAL mode: while the store is open with writes in it, both sidecars exist.
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(file), file).toBe(true);
      expect(modeOf(file), file).toBe(0o600);
    }
    store.close();
    expect(modeOf(path)).toBe(0o600);
  });

  it('narrows a store that older code created 0644 when it is opened', () => {
    new RunStore(path).close();
    chmodSync(path, 0o644);

    const store = new RunStore(path);
    store.createRun('r1', {});
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(`${path}-wal`)).toBe(0o600);
    store.close();
  });
});
