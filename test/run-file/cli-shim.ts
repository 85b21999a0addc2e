/**
 * Runs the research commands as `cohort` would (`node --import tsx test/run-file/cli-shim.ts run …`),
 * for tests written before bin/main.ts dispatches them: same exit codes, same one-line errors.
 */
import { CohortError } from '../../core/protocol/errors.js';
import { exportCommand, runCommand, simulateCommand } from '../../bin/research-commands.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = { run: runCommand, simulate: simulateCommand, export: exportCommand };
const [name, ...rest] = process.argv.slice(2);
const command = commands[name ?? ''];
if (!command) {
  process.stderr.write(`cli-shim: unknown command ${name}\n`);
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await command(rest);
  } catch (error) {
    if (!(error instanceof CohortError)) throw error;
    process.stderr.write(`cohort: ${error.code}: ${error.message}\n`);
    process.exitCode = error.code === 'E_CLI_USAGE' || error.code === 'E_CONFIG_INVALID' ? 2 : 1;
  }
}
