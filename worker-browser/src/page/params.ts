/**
 * The page's URL query, the knobs a link can set:
 *   coordinator=ws://host:port/ws   the coordinator (default: this page's origin, /ws); another
 *                                   one than the page's own is joined only after the volunteer
 *                                   confirms it, autostart or not: a link is anyone's to write
 *   shard=i/n                       train on demo MNIST shard i of n (else: the volunteer's own data)
 *   backend=webgpu|webgl|wasm|cpu   force a backend instead of measuring
 *   autostart=1                     join as soon as the page loads
 *   maxSteps=N                      cap this tab's local steps per round (below the run's cap)
 *   wallet=tab                      use the tab's own key even when a wallet extension is injected
 *   requireSecureAggregation=0      also join runs without secure aggregation (default: refuse
 *                                   them, E_SECAGG_REQUIRED, since their coordinator sees each update)
 */
import { normalizeCoordinatorUrl } from '../../../core/protocol/identity.js';
import { isBrowserBackend, type BrowserBackend } from '../bridge.js';

export interface PageParams {
  coordinatorUrl: string;
  /** The coordinator that served this page: this origin's /ws. */
  ownCoordinatorUrl: string;
  /** True when the link names a coordinator other than the page's own: it needs the volunteer's confirmation. */
  foreignCoordinator: boolean;
  requireSecureAggregation: boolean;
  shard?: { index: number; count: number } | undefined;
  backend?: BrowserBackend | undefined;
  autostart: boolean;
  maxLocalSteps?: number | undefined;
  wallet: 'auto' | 'tab';
  /** Problems with the query, shown on the page instead of silently ignored. */
  problems: string[];
}

export function readParams(location: { href: string; protocol: string; host: string }): PageParams {
  const query = new URL(location.href).searchParams;
  const problems: string[] = [];
  const ownCoordinatorUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const coordinatorUrl = query.get('coordinator') ?? ownCoordinatorUrl;
  if (!URL.canParse(coordinatorUrl) || !/^wss?:$/.test(new URL(coordinatorUrl).protocol)) problems.push(`coordinator=${coordinatorUrl} is not a ws:// or wss:// URL`);

  let shard: PageParams['shard'];
  const shardText = query.get('shard');
  if (shardText !== null) {
    const match = /^(\d+)\/(\d+)$/.exec(shardText);
    const index = Number(match?.[1]);
    const count = Number(match?.[2]);
    if (match && count >= 1 && index < count) shard = { index, count };
    else problems.push(`shard=${shardText} should be i/n with 0 ≤ i < n`);
  }

  const backendText = query.get('backend');
  let backend: BrowserBackend | undefined;
  if (backendText !== null && backendText !== '' && backendText !== 'auto') {
    if (isBrowserBackend(backendText)) backend = backendText;
    else problems.push(`backend=${backendText} is not one of webgpu, webgl, wasm, cpu`);
  }

  const stepsText = query.get('maxSteps');
  let maxLocalSteps: number | undefined;
  if (stepsText !== null) {
    const n = Number(stepsText);
    if (Number.isInteger(n) && n >= 1) maxLocalSteps = n;
    else problems.push(`maxSteps=${stepsText} should be a positive integer`);
  }

  const off = query.get('requireSecureAggregation');
  return {
    coordinatorUrl,
    ownCoordinatorUrl,
    foreignCoordinator: normalizeCoordinatorUrl(coordinatorUrl) !== normalizeCoordinatorUrl(ownCoordinatorUrl),
    requireSecureAggregation: !(off === '0' || off === 'false'),
    shard,
    backend,
    autostart: query.get('autostart') === '1' || query.get('autostart') === 'true',
    maxLocalSteps,
    wallet: query.get('wallet') === 'tab' ? 'tab' : 'auto',
    problems,
  };
}
