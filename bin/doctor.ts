/**
 * `cohort doctor [--model 2nn|cnn] [--json] [--no-browser]`: which tfjs backends load on this
 * machine, how fast each trains the model, how to fix the ones that do not load, the Chromium for
 * browser tests, and the backend a worker started here would choose. Bad flags: E_CLI_USAGE, exit 2.
 */
import { enumFlag, parseFlags } from '../coordinator/cli/flags.js';

export const DOCTOR_HELP = `cohort doctor [options]

Loads every tfjs backend a Node worker can use (in the worker's auto order), trains the model with
each one that loads, and prints one line per backend: loaded or not and why, its adapter, its
steps/s, and the fix when it did not load. Then the Vulkan drivers Dawn sees, the Chromium that
browser workers and tests would use (WebGPU, cross-origin isolation), and the worker's choice.

  --model 2nn|cnn          the model to measure (default 2nn)
  --json                   print the same as one JSON object on stdout
  --no-browser             skip the Chromium check`;

export async function doctorCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) return void console.log(DOCTOR_HELP), 0;
  const values = parseFlags('doctor', argv, { model: { type: 'string' }, json: { type: 'boolean' }, browser: { type: 'boolean' } });
  const model = enumFlag(values, 'model', ['2nn', 'cnn'] as const, '2nn');
  const json = values.json === true;
  const { runDoctor } = await import('../worker-node/doctor/doctor.js');
  const { checkChromium } = await import('./doctor-chromium.js');
  const report = await runDoctor({
    model,
    checkChromium: values.browser === false ? undefined : () => checkChromium(),
    log: json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  if (json) console.log(JSON.stringify(report));
  else {
    const { formatDoctorReport } = await import('../worker-node/doctor/format.js');
    console.log(formatDoctorReport(report));
  }
  return 0;
}
