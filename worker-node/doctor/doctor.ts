/**
 * `cohort doctor`: what a Node worker on this machine can train with. Every backend in the auto
 * order, loaded or not and why, its adapter, its measured steps/s on the model and a fix when it
 * did not load; the Vulkan drivers Dawn sees; the Chromium browser tests would use; and the
 * worker's own choice, made by the same selectBackend a worker runs (so the two cannot disagree).
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { ModelSpec } from '../../core/protocol/messages.js';
import { AUTO_ORDER, firstLine, loadCandidate, type AdapterInfo, type BackendName } from '../backends/candidates.js';
import { selectBackend, type BackendSelection, type CandidateOutcome } from '../backends/select.js';
import { findVulkanDrivers, type VulkanDrivers } from '../backends/vulkan-icd.js';
import { fixHint } from './fix-hints.js';

export interface BackendDiagnosis {
  name: BackendName;
  loaded: boolean;
  /** Why it did not load; for a loaded one, what happened when it trained the model. */
  reason: string;
  /** GPU adapter (webgpu); null for CPU backends and for those that did not load. */
  adapter: AdapterInfo | null;
  /** Measured training steps/s on the model; with `estimate`, an upper bound from a batch-1 step. */
  stepsPerSecond: number | null;
  estimate: boolean;
  fix?: string;
}

/** The Chromium browser workers and tests would use (bin/doctor-chromium.ts checks it). */
export interface ChromiumCheck {
  path: string | null;
  /** Why it was not found or not started; absent when the checks ran. */
  error?: string;
  webgpu?: { available: boolean; adapter?: string; software?: boolean; reason?: string };
  crossOriginIsolated?: boolean;
  fix?: string;
}

export interface DoctorReport {
  model: string;
  batchSize: number;
  backends: BackendDiagnosis[];
  vulkan: VulkanDrivers;
  chromium: ChromiumCheck | { skipped: true };
  /** What a worker started here would train with, and why; backend null when nothing can. */
  choice: { backend: BackendName | null; reason: string; stepsPerSecond: number | null };
}

export interface DoctorOptions {
  model: '2nn' | 'cnn';
  /** Checks the Chromium (it starts a browser: a few seconds); omitted: not checked. */
  checkChromium?: () => Promise<ChromiumCheck>;
  log?: (line: string) => void;
}

const BATCH_SIZE = 32;

function loadedReason(outcome: CandidateOutcome | undefined): { loaded: boolean; reason: string } {
  if (outcome === undefined) return { loaded: true, reason: 'loaded; not measured' };
  if (outcome.skipped !== undefined) {
    // Loaded, but tf.setBackend refused it: as good as not loaded.
    if (outcome.skipped.startsWith('failed to initialise')) return { loaded: false, reason: outcome.skipped };
    return { loaded: true, reason: `loaded, but ${outcome.skipped}` };
  }
  if (outcome.estimate) return { loaded: true, reason: 'loaded; not measured at full batch: its batch-1 step already shows it is slower than the best' };
  return { loaded: true, reason: 'loaded and trained the model' };
}

async function diagnose(name: BackendName, selection: BackendSelection | undefined, drivers: VulkanDrivers): Promise<BackendDiagnosis> {
  const load = await loadCandidate(name);
  if (!load.ok) {
    const diagnosis: BackendDiagnosis = { name, loaded: false, reason: load.reason, adapter: null, stepsPerSecond: null, estimate: false };
    const fix = fixHint(name, load.reason, drivers);
    if (fix !== undefined) diagnosis.fix = fix;
    return diagnosis;
  }
  const outcome = selection?.candidates.find((c) => c.name === name);
  const { loaded, reason } = loadedReason(outcome);
  const diagnosis: BackendDiagnosis = {
    name,
    loaded,
    reason,
    adapter: load.backend.adapterInfo ?? null,
    stepsPerSecond: outcome?.stepsPerSecond ?? null,
    estimate: outcome?.estimate === true,
  };
  if (!loaded) diagnosis.fix = fixHint(name, reason, drivers) ?? 'see the reason';
  return diagnosis;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const model: ModelSpec = { kind: 'builtin', name: options.model };
  const drivers = findVulkanDrivers();
  let selection: BackendSelection | undefined;
  let choice: DoctorReport['choice'];
  try {
    selection = await selectBackend({ requested: 'auto', model, log: options.log, measureAll: true, benchmark: { batchSize: BATCH_SIZE } });
    choice = { backend: selection.name, reason: selection.reason, stepsPerSecond: selection.stepsPerSecond ?? null };
  } catch (err) {
    if (!(err instanceof CohortError) || err.code !== 'E_BACKEND_UNAVAILABLE') throw err;
    choice = { backend: null, reason: firstLine(err), stepsPerSecond: null };
  }
  const backends: BackendDiagnosis[] = [];
  for (const name of AUTO_ORDER) backends.push(await diagnose(name, selection, drivers));
  const chromium = options.checkChromium ? await options.checkChromium() : { skipped: true as const };
  return { model: options.model, batchSize: BATCH_SIZE, backends, vulkan: drivers, chromium, choice };
}
