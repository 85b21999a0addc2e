// The layer and size rules of eslint.config.js, run through ESLint's Node API on fixtures that
// are linted as if they lived in the layer their folder names (test/lint/fixtures/<layer>/).
// `npm run lint` does not see the fixtures (they are in the config's ignores); here ignore: false.
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let eslint: ESLint;

async function lint(fixture: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintFiles([`test/lint/fixtures/${fixture}`]);
  if (!result) throw new Error(`no result for ${fixture}`);
  return result.messages;
}

const layerErrors = (messages: Linter.LintMessage[]) =>
  messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => ({ line: m.line, rule: m.ruleId, message: m.message }));

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT, ignore: false });
});

describe('layer rules', () => {
  it('refuse core importing a wing, a Node built-in or (dynamically) another wing', async () => {
    const errors = layerErrors(await lint('core/wrong-way.ts'));
    expect(errors).toEqual([
      expect.objectContaining({ line: 2, rule: 'no-restricted-imports', message: expect.stringContaining('coordinator/ is a wing') }),
      expect.objectContaining({ line: 3, rule: 'no-restricted-imports', message: expect.stringContaining('Node built-ins') }),
      expect.objectContaining({ line: 4, rule: 'no-restricted-imports', message: expect.stringContaining('worker-node/ is a wing') }),
      expect.objectContaining({ line: 7, rule: 'no-restricted-syntax', message: expect.stringContaining('worker-browser/ is a wing') }),
    ]);
  }, 120_000);

  it('accept core importing core and neutral packages', async () => {
    expect(await lint('core/right-way.ts')).toEqual([]);
  }, 120_000);

  it('refuse one wing importing another', async () => {
    expect(layerErrors(await lint('coordinator/wrong-way.ts'))).toEqual([
      expect.objectContaining({ line: 2, message: expect.stringContaining('worker-node/ is a wing') }),
    ]);
    expect(layerErrors(await lint('worker-browser/src/page/wrong-way.ts'))).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringContaining('coordinator/ is a wing') }),
      expect.objectContaining({ line: 4, message: expect.stringContaining('contracts/') }),
    ]);
  }, 120_000);
});

describe('size rules', () => {
  it('refuse a function over 80 lines, unless the file header says why', async () => {
    const messages = await lint('core/too-long.ts');
    expect(messages).toEqual([expect.objectContaining({ ruleId: 'max-lines-per-function', message: expect.stringContaining('Maximum allowed is 80') })]);
    expect(await lint('core/too-long-with-reason.ts')).toEqual([]);
  }, 120_000);
});
