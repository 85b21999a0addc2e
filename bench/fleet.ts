/**
 * Fleet time to 97% (issue 10's benchmark): `examples/heterogeneous-fleet.yaml` (100 clients,
 * speeds log-uniform 1–20×, 20% vanishing, SecAgg+ on) simulated once per mode, in one run:
 * today's synchronous rounds (overSelect 1, every round waits for its slowest survivor),
 * over-selection (OVER_SELECT below), and asynchronous FedBuff (the file's mode: groups of 16
 * closing at bufferSize 10, staleness-weighted). Fleet seconds are the simulated fleet's time
 * (coordinator/simulate/fleet-clock.ts); wall time is this machine's.
 *
 * CPU is given twice: the whole process's (the training threads included) and the main thread's
 * busy time (performance.eventLoopUtilization: the coordinator, and the simulated clients'
 * SecAgg+ masking, which runs on the same thread; no training), per round or version.
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { toRunPlan } from '../coordinator/run-file/to-run-config.js';
import { loadRunFile } from '../coordinator/run-file/load.js';
import { simulate } from '../coordinator/simulate/simulate.js';

const FILE = fileURLToPath(new URL('../examples/heterogeneous-fleet.yaml', import.meta.url));
const CLIENTS = 100;
/**
 * The over-selection row's factor: 16 selected for 10, the async example's group size. On
 * 2026-12-07, --over-select 2 reached 97% in 392.1 fleet-s but with 55 of the 100 clients ever
 * counted, 1.6 in 458.2 s with 63 (README, "Over-selection"): the more is cut, the more the
 * slowest clients' data is left out.
 */
const OVER_SELECT = 1.6;

interface ModeResult {
  label: string;
  command: string;
  rounds: number;
  reached: boolean;
  accuracy: number | null;
  fleetSeconds: number;
  wallSeconds: number;
  cpuSecondsPerRound: number;
  mainThreadSecondsPerRound: number;
}

async function runMode(label: string, mode: 'sync' | 'async', overSelect?: number): Promise<ModeResult> {
  const loaded = loadRunFile(FILE);
  const plan = { ...toRunPlan(loaded, { population: CLIENTS, overSelect, mode }), ledger: undefined };
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const summary = await simulate({ plan, clients: CLIENTS, print: (line) => console.error(`fleet ${label}: ${line}`) });
  const used = process.cpuUsage(cpu);
  const busy = performance.eventLoopUtilization(loop).active / 1000;
  return {
    label,
    command: `cohort simulate examples/heterogeneous-fleet.yaml --clients ${CLIENTS} --json${mode === 'sync' ? ` --mode sync --over-select ${overSelect}` : ''}`,
    rounds: summary.rounds,
    reached: /target accuracy/.test(summary.reason),
    accuracy: summary.accuracy,
    fleetSeconds: summary.fleetSeconds,
    wallSeconds: summary.elapsedMs / 1000,
    cpuSecondsPerRound: (used.user + used.system) / 1e6 / Math.max(1, summary.rounds),
    mainThreadSecondsPerRound: busy / Math.max(1, summary.rounds),
  };
}

export async function run(): Promise<string> {
  const sync = await runMode('sync, overSelect 1', 'sync', 1);
  const over = await runMode(`sync, overSelect ${OVER_SELECT}`, 'sync', OVER_SELECT);
  const async = await runMode('async (FedBuff), bufferSize 10', 'async');
  const row = (r: ModeResult) =>
    `| ${r.label} | \`${r.command}\` | ${r.reached ? r.rounds : `not reached in ${r.rounds}`} | ${r.fleetSeconds.toFixed(1)} s | ${r.accuracy === null ? '—' : `${(r.accuracy * 100).toFixed(2)}%`} | ${r.wallSeconds.toFixed(0)} s | ${r.cpuSecondsPerRound.toFixed(1)} s | ${r.mainThreadSecondsPerRound.toFixed(2)} s |`;
  const speedup = sync.fleetSeconds / Math.max(1e-9, over.fleetSeconds);
  return [
    '100 clients, speeds log-uniform 1–20× (a factor-1 client: 10 ms a local step), 20% vanishing, SecAgg+, 10 per round, until 97% on MNIST\'s test set.',
    '',
    '| mode | command | rounds (versions) to 97% | fleet time | accuracy | wall time | process CPU per round or version (all threads, training included) | main thread busy per round or version (coordinator + clients\' SecAgg+, no training) |',
    '|---|---|---|---|---|---|---|---|',
    row(sync),
    row(over),
    row(async),
    '',
    `Over-selection reaches 97% in ${speedup.toFixed(2)}× less fleet time than today's synchronous rounds (issue 10's target: ≥ 2×); async in ${(sync.fleetSeconds / Math.max(1e-9, async.fleetSeconds)).toFixed(2)}× less (target: ≥ 3×).`,
    'The process CPU includes the training threads. The main thread\'s busy time (its event loop\'s active time) holds the coordinator\'s work and the simulated clients\' SecAgg+ masking and protocol messages, but no training: an upper bound on the coordinator\'s CPU per applied update.',
  ].join('\n');
}
