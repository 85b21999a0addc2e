/** `cohort doctor`'s human-readable report: one line per backend, then Vulkan, Chromium, the choice. */
import { describeAdapter } from '../backends/candidates.js';
import type { BackendDiagnosis, DoctorReport } from './doctor.js';

function rate(d: BackendDiagnosis): string {
  if (d.stepsPerSecond === null) return '-';
  const n = d.stepsPerSecond >= 10 ? d.stepsPerSecond.toFixed(0) : d.stepsPerSecond >= 1 ? d.stepsPerSecond.toFixed(1) : d.stepsPerSecond.toPrecision(2);
  return `${d.estimate ? '≤' : ''}${n} steps/s`;
}

function backendLine(d: BackendDiagnosis): string[] {
  const device = d.adapter ? `adapter: ${describeAdapter(d.adapter)}` : d.loaded ? 'adapter: CPU' : '';
  const lines = [`  ${d.name.padEnd(14)} ${(d.loaded ? 'loaded' : 'not loaded').padEnd(11)} ${rate(d).padEnd(15)} ${d.reason}${device ? `; ${device}` : ''}`];
  if (d.fix !== undefined) lines.push(`  ${''.padEnd(14)} fix: ${d.fix}`);
  return lines;
}

export function formatDoctorReport(report: DoctorReport): string {
  const lines = [`cohort doctor: backends for the ${report.model} model (batch ${report.batchSize}), in the worker's auto order`];
  for (const d of report.backends) lines.push(...backendLine(d));

  const v = report.vulkan;
  const icds = v.manifests.map((m) => `${m.path}${m.lavapipe ? ' (lavapipe, software)' : ''}`).join(', ') || 'none';
  lines.push(`Vulkan drivers (for Dawn): ${icds}${v.override !== null ? ` [VK_ICD_FILENAMES/VK_DRIVER_FILES=${v.override}]` : ''}${v.mesaPackage ? `; mesa-vulkan-drivers ${v.mesaPackage}` : ''}`);

  const c = report.chromium;
  if ('skipped' in c) lines.push('Chromium: not checked (--no-browser)');
  else if (c.path === null || c.error !== undefined) lines.push(`Chromium: ${c.path ?? 'not found'}${c.error ? ` (${c.error})` : ''}`);
  else {
    const gpu = c.webgpu?.available ? `yes, ${c.webgpu.adapter}${c.webgpu.software ? ' (software)' : ''}` : `no (${c.webgpu?.reason ?? 'unknown'})`;
    lines.push(`Chromium: ${c.path}; WebGPU: ${gpu}; cross-origin isolated: ${c.crossOriginIsolated ? 'yes' : 'no'}`);
  }
  if (!('skipped' in c) && c.fix !== undefined) lines.push(`  fix: ${c.fix}`);

  lines.push(`Worker's choice: ${report.choice.backend === null ? `none (${report.choice.reason})` : report.choice.reason}`);
  return lines.join('\n');
}
