/** Shared pieces of the dashboard's browser tests. */
import type { Page } from 'puppeteer';

let built: Promise<unknown> | undefined;

/** Bundles the page once per test process (esbuild, well under a second). */
export function buildDashboard(): Promise<unknown> {
  built ??= import('../../../coordinator/dashboard/build.mjs' as string).then((m: { build: (o?: { minify?: boolean }) => Promise<unknown> }) => m.build());
  return built;
}

/** Collects console errors and uncaught exceptions of `page` into the returned array. */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} ${JSON.stringify(message.location())}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error instanceof Error ? error.message : String(error)}`));
  return errors;
}

export async function text(page: Page, selector: string): Promise<string | null> {
  return page.$eval(selector, (e) => e.textContent);
}
