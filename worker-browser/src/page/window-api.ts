/**
 * `window.cohort`: what the worker page (main.ts) exposes to tests, benchmarks and the demo, which
 * drive tabs through puppeteer's page.evaluate. One declaration, imported by the page and by the
 * Node-side launcher (launch.ts), so both sides agree on it.
 */
import type { RewardsState } from './rewards-state.js';
import type { PageState } from './state.js';

export interface CohortPageApi {
  state(): PageState;
  join(): Promise<void>;
  leave(): void;
  /** The tab key's key file (tab keys only; an injected wallet has none). */
  exportKey(): string | undefined;
  ready: Promise<void>;
  rewards(): RewardsState;
  refreshRewards(): Promise<void>;
  claimRewards(): Promise<void>;
  /** Whether the beforeunload warning is armed now (only while a round is in progress). */
  closeWarningArmed(): boolean;
}

declare global {
  interface Window {
    cohort: CohortPageApi;
  }
}
