/**
 * The page's copy of one run: a snapshot, then deltas applied as upserts. Each table has a version
 * number that moves when its rows change, so a view re-renders only what moved.
 */
import type { ContributionRow, Incident, PrivacySpent, RoundRow, RunDelta, RunListItem, RunSnapshot, StageInfo, Traffic, WorkerRow } from '../api-types.js';

/** The page keeps at most this many incidents (the server keeps 1,000 per run). */
const MAX_INCIDENTS = 2_000;

export class RunModel {
  run: RunListItem;
  paused = false;
  stage: StageInfo | null = null;
  errors: Record<string, number> = {};
  privacy: PrivacySpent | null = null;
  traffic: Traffic | null = null;
  readonly workers = new Map<string, WorkerRow>();
  readonly rounds = new Map<number, RoundRow>();
  readonly contributions = new Map<string, ContributionRow>();
  incidents: Incident[] = [];
  /** Server clock minus page clock, so "last seen" ages use the server's times. */
  clockOffset = 0;

  readonly version = { header: 0, workers: 0, rounds: 0, contributions: 0, incidents: 0 };

  constructor(snapshot: RunSnapshot) {
    this.run = snapshot.run;
    this.applySnapshot(snapshot);
  }

  now(): number {
    return Date.now() + this.clockOffset;
  }

  applySnapshot(s: RunSnapshot): void {
    this.workers.clear();
    this.rounds.clear();
    this.contributions.clear();
    this.incidents = [];
    this.applyDelta({ ...s, serverTime: s.serverTime });
  }

  applyDelta(d: RunDelta): void {
    this.clockOffset = d.serverTime - Date.now();
    let header = false;
    if (d.run) {
      this.run = d.run;
      header = true;
    }
    if (d.paused !== undefined) {
      this.paused = d.paused;
      header = true;
    }
    if (d.stage !== undefined) {
      this.stage = d.stage;
      header = true;
    }
    if (d.errors) {
      this.errors = d.errors;
      header = true;
    }
    if (d.privacy !== undefined) {
      this.privacy = d.privacy;
      header = true;
    }
    if (d.traffic !== undefined) {
      this.traffic = d.traffic;
      header = true;
    }
    if (d.workers?.length) {
      for (const w of d.workers) this.workers.set(w.address, w);
      this.version.workers += 1;
      header = true;
    }
    if (d.rounds?.length) {
      for (const r of d.rounds) this.rounds.set(r.round, r);
      this.version.rounds += 1;
      header = true;
    }
    if (d.contributions?.length) {
      for (const c of d.contributions) this.contributions.set(c.address, c);
      this.version.contributions += 1;
    }
    if (d.incidents?.length) {
      const last = this.incidents.at(-1)?.id ?? 0;
      const fresh = d.incidents.filter((i) => i.id > last);
      if (fresh.length) {
        this.incidents = this.incidents.concat(fresh);
        if (this.incidents.length > MAX_INCIDENTS) this.incidents = this.incidents.slice(-MAX_INCIDENTS);
        this.version.incidents += 1;
      }
    }
    if (header) this.version.header += 1;
  }

  sortedRounds(): RoundRow[] {
    return [...this.rounds.values()].sort((a, b) => a.round - b.round);
  }

  connectedWorkers(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.connected) n += 1;
    return n;
  }

  /** Summed examples/s of the connected workers. */
  throughput(): number | null {
    let sum = 0;
    let any = false;
    for (const w of this.workers.values()) {
      if (w.connected && w.examplesPerSecond !== null) {
        sum += w.examplesPerSecond;
        any = true;
      }
    }
    return any ? sum : null;
  }
}
