/**
 * `cohort setup-native --from DIR [--gpu] [--json]`. Every failure is a CohortError with an E_ code
 * and exit status 2: the user's input (the folder, the library in it) is what needs changing.
 */
import { CohortError } from '../core/protocol/errors.js';
import { parseFlags, stringFlag } from '../coordinator/cli/flags.js';

export const SETUP_NATIVE_HELP = `cohort setup-native --from DIR [options]

Builds @tensorflow/tfjs-node (or -gpu) against a libtensorflow you already have, since its own
download of libtensorflow now fails (tensorflow/tfjs#8742). DIR is an unpacked tensorflow or
tensorflow-cpu pip wheel (pip download tensorflow-cpu==2.15.*; unzip the .whl), or a libtensorflow
folder (lib/ and include/). Links the libraries where the binding expects them, runs npm rebuild
from source (needs python3, make and g++), and trains one step on the tensorflow backend.

  --from DIR               the unpacked wheel or libtensorflow folder (required)
  --gpu                    set up @tensorflow/tfjs-node-gpu instead (CUDA build of TensorFlow)
  --json                   print the result as one JSON object on stdout

Errors (exit 2): E_NATIVE_LIBRARY_MISSING (no DIR, or no libtensorflow in it),
E_NATIVE_LOAD_FAILED (the library or the rebuilt binding does not load or train),
E_NATIVE_BUILD_FAILED (npm install/rebuild failed).`;

export async function setupNativeCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) return void console.log(SETUP_NATIVE_HELP), 0;
  try {
    const values = parseFlags('setup-native', argv, { from: { type: 'string' }, gpu: { type: 'boolean' }, json: { type: 'boolean' } });
    const from = stringFlag(values, 'from');
    if (from === undefined || from === '') throw new CohortError('E_CLI_USAGE', 'cohort setup-native: --from DIR is required');
    const json = values.json === true;
    const { setupNative } = await import('../worker-node/backends/native-setup.js');
    const result = setupNative({ from, gpu: values.gpu === true, log: (line) => process.stderr.write(`${line}\n`) });
    const summary = { ok: true, package: result.package, library: result.library.library, version: result.library.version, stepsPerSecond: result.stepsPerSecond };
    if (json) console.log(JSON.stringify(summary));
    else console.log(`${result.package} now runs on ${result.library.library}: the tensorflow backend trained the 2nn at ${result.stepsPerSecond.toFixed(1)} steps/s`);
    return 0;
  } catch (error) {
    if (!(error instanceof CohortError)) throw error;
    process.stderr.write(`cohort setup-native: ${error.code}: ${error.message}\n`);
    if (argv.includes('--json')) console.log(JSON.stringify({ ok: false, code: error.code, message: error.message }));
    return 2;
  }
}
