/**
 * `cohort doctor`, the real command in a child process, on this machine's real backends, Vulkan
 * drivers and Chromium. After .ci/run's install steps (Mesa's lavapipe from bookworm-backports),
 * webgpu loads here on a software adapter.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../worker-node/doctor/doctor.js';
import { COHORT_BIN } from '../e2e/helpers.js';

const run = promisify(execFile);
const AUTO_ORDER = ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'];

async function doctor(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [COHORT_BIN, 'doctor', ...args], { env: { ...process.env, ...env }, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 });
}

describe('cohort doctor', () => {
  it('--json: every backend with loaded and reason; webgpu loads; Chromium and the choice', async () => {
    const { stdout } = await doctor(['--model', '2nn', '--json']);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report.model).toBe('2nn');
    expect(report.backends.map((b) => b.name)).toEqual(AUTO_ORDER);
    for (const b of report.backends) {
      expect(typeof b.loaded).toBe('boolean');
      expect(b.reason.length).toBeGreaterThan(0);
      // A backend that did not load says how to fix it; one that trained has a rate.
      if (!b.loaded && !b.reason.startsWith('not needed')) expect(b.fix ?? '').not.toBe('');
      if (b.loaded && b.reason === 'loaded and trained the model') expect(b.stepsPerSecond).toBeGreaterThan(0);
    }
    const webgpu = report.backends.find((b) => b.name === 'webgpu')!;
    expect({ loaded: webgpu.loaded, reason: webgpu.reason }).toEqual({ loaded: true, reason: 'loaded and trained the model' });
    expect(webgpu.adapter?.vendor ?? '').not.toBe('');
    // No GPU device node: Dawn's adapter can only be a software one (lavapipe).
    if (!existsSync('/dev/dri') && !existsSync('/dev/nvidia0')) expect(webgpu.adapter?.software).toBe(true);
    expect(report.vulkan.manifests.length).toBeGreaterThan(0);

    const chromium = report.chromium as Exclude<DoctorReport['chromium'], { skipped: true }>;
    expect(chromium.path).not.toBeNull();
    expect(typeof chromium.webgpu?.available).toBe('boolean');
    expect(typeof chromium.crossOriginIsolated).toBe('boolean');

    // The choice is the fastest backend that trained, with the worker's reason line.
    const trained = report.backends.filter((b) => b.loaded && b.stepsPerSecond !== null && !b.estimate);
    const fastest = trained.reduce((a, b) => ((b.stepsPerSecond ?? 0) > (a.stepsPerSecond ?? 0) ? b : a));
    expect(report.choice.backend).toBe(fastest.name);
    expect(report.choice.reason).toMatch(new RegExp(`^${fastest.name}: [0-9.]+ steps/s`));
  }, 180_000);

  it('text: one line per backend, the reason Dawn has no adapter and its fix', async () => {
    const { stdout } = await doctor(['--no-browser'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    const lines = stdout.split('\n');
    for (const name of AUTO_ORDER) expect(lines.filter((l) => l.startsWith(`  ${name.padEnd(14)} `))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith('  webgpu '))).toMatch(/not loaded .*no adapter/);
    expect(stdout).toMatch(/fix: VK_ICD_FILENAMES\/VK_DRIVER_FILES \(\/nonexistent\/icd\.json\) names no existing file/);
    expect(stdout).toContain('Chromium: not checked');
    expect(lines.find((l) => l.startsWith("Worker's choice: "))).toMatch(/^Worker's choice: (wasm|cpu|tfjs-node): /);
  }, 180_000);

  it('refuses a bad --model with E_CLI_USAGE and exit 2', async () => {
    const err = (await doctor(['--model', 'resnet']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/E_CLI_USAGE: --model: expected/);
  });
});
