// The size rules (eslint.config.js: max-lines 400, max-lines-per-function 80 for production code)
// have one escape: a block `/* eslint-disable <rule> -- why */` in the file's header, before its
// first import or statement. A line-level disable, or one without a reason, fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRODUCTION = ['core', 'coordinator', 'worker-node', 'worker-browser', 'contracts', 'bin', 'scripts'];
const SKIP = new Set(['node_modules', 'dist', 'artifacts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : sourceFiles(path);
    return /\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Where the header ends: the first line that is not blank, a comment or a shebang. */
function headerEnd(lines: string[]): number {
  let inBlock = false;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (inBlock) {
      if (line.includes('*/')) inBlock = false;
      continue;
    }
    if (line === '' || line.startsWith('//') || line.startsWith('#!')) continue;
    if (line.startsWith('/*')) {
      inBlock = !line.includes('*/');
      continue;
    }
    return i;
  }
  return lines.length;
}

/** Every disable of a size rule in `text` that breaks the header-with-reason rule. */
function badSizeEscapes(text: string): string[] {
  const lines = text.split('\n');
  const end = headerEnd(lines);
  const bad: string[] = [];
  lines.forEach((line, i) => {
    if (!/eslint-disable/.test(line) || !/\bmax-lines(-per-function)?\b/.test(line)) return;
    const where = `line ${i + 1}`;
    if (/eslint-disable-(next-)?line/.test(line)) bad.push(`${where}: a line-level disable; put /* eslint-disable … -- why */ in the header`);
    else if (i >= end) bad.push(`${where}: not in the file's header`);
    else if (!/--\s*\S.{8,}/.test(line)) bad.push(`${where}: no reason (… -- why)`);
  });
  return bad;
}

describe('size-rule escapes', () => {
  it('tell good escapes from bad ones', () => {
    expect(badSizeEscapes('/** Doc. */\n/* eslint-disable max-lines -- one table of every wire code */\nimport x from "y";\n')).toEqual([]);
    expect(badSizeEscapes('/* eslint-disable max-lines */\nexport {};\n')).toEqual(['line 1: no reason (… -- why)']);
    expect(badSizeEscapes('export {};\n/* eslint-disable max-lines-per-function -- a long reason here */\n')).toEqual(["line 2: not in the file's header"]);
    expect(badSizeEscapes('// eslint-disable-next-line max-lines-per-function -- reason given\nfunction f() {}\n')).toEqual([
      'line 1: a line-level disable; put /* eslint-disable … -- why */ in the header',
    ]);
  });

  it('are in the header, with a reason, in every production file', () => {
    const bad = PRODUCTION.flatMap((dir) => sourceFiles(join(ROOT, dir))).flatMap((file) =>
      badSizeEscapes(readFileSync(file, 'utf8')).map((problem) => `${relative(ROOT, file)} ${problem}`),
    );
    expect(bad).toEqual([]);
  });
});
