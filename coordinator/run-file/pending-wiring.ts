/**
 * Run-file settings that are validated but not yet applied by the run engine. They are announced
 * at start, never dropped silently: a researcher must not believe a run used FedAdam or DP when the
 * engine ran FedAvg without noise.
 *
 * SEAM for the lead: strategy, privacy and rewards travel in RunConfig / ServeOptions already;
 * federated evaluation does not yet (RunPlan.evaluation; `cohort run` and `cohort simulate` also
 * hand the whole plan to the coordinator as `runPlan`). Once the engine runs it, delete this file.
 */
import type { RunPlan } from './to-run-config.js';

export function unappliedSettings(plan: RunPlan): string[] {
  const out: string[] = [];
  if (plan.evaluation.kind === 'federated') out.push('federated evaluation is validated but the engine does not run it yet: rounds report no accuracy');
  return out;
}
