/**
 * The Rewards panel's logic: what this address has earned, been paid and may claim, from the
 * coordinator's GET /api/rewards/:address, and the claim itself, sent straight to the ledger through
 * the chain's JSON-RPC URL and signed here: by the tab's key, or by the injected wallet (which asks
 * the volunteer). The coordinator only supplies the proof; the contract checks it and pays only
 * this address, so a wrong answer from the coordinator can cost gas, never the reward.
 */
import { BrowserProvider, ZeroAddress, formatEther, type ContractRunner, type Eip1193Provider } from 'ethers';
import { claim, connectChain, connectLedger, walletSigner } from '../../../contracts/ledger-client.js';
import type { RewardsBody, RewardsChainInfo } from '../../../core/protocol/http-api.js';
import type { RewardsState } from './rewards-state.js';
import { injectedProvider, type PageSigner } from './wallet.js';

export type { RewardsState, RewardsStatus } from './rewards-state.js';

export interface RewardsOptions {
  /** http(s)://host:port of the coordinator (see coordinatorHttpOrigin). */
  readonly apiBase: string;
  readonly address: () => string | undefined;
  /** The identity that signs a claim; may ask an injected wallet to connect. */
  readonly signer: () => Promise<PageSigner>;
  readonly onChange: (state: RewardsState) => void;
  readonly log: (line: string) => void;
}

/** The coordinator's HTTP origin from its ws(s):// URL: its routes live beside /ws. */
export function coordinatorHttpOrigin(wsUrl: string): string {
  const url = new URL(wsUrl);
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}

/** An amount for people: ETH for an ETH run, base units of the token otherwise (decimals unknown here). */
export function formatReward(wei: string | undefined, token: string | undefined): string {
  if (wei === undefined) return '–';
  if (token === ZeroAddress) return `${formatEther(wei)} ETH`;
  return token === undefined ? `${wei} base units` : `${wei} base units of token ${token}`;
}

/** A round's record reaches the chain a moment after the round: retry until it has, this long. */
const ROUND_WAIT_MS = 30_000;

export class RewardsPanel {
  readonly state: RewardsState = {
    status: 'no address', account: undefined, round: undefined, earned: undefined, claimed: undefined, claimable: undefined,
    chain: undefined, claiming: false, txHash: undefined, error: undefined,
  };
  private readonly options: RewardsOptions;
  /** Only the newest refresh may write the state. */
  private seq = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RewardsOptions) {
    this.options = options;
  }

  async refresh(): Promise<void> {
    const account = this.options.address();
    const mine = ++this.seq;
    if (!account) return this.set({ status: 'no address', account: undefined });
    if (this.state.account !== account) this.set({ status: 'loading', account, earned: undefined, claimed: undefined, claimable: undefined, round: undefined });
    let next: Partial<RewardsState>;
    try {
      const body = await this.fetchRewards(account);
      next = body === 'disabled'
        ? { status: 'disabled', chain: undefined }
        : body.status === 'none'
          ? { status: 'none', chain: body.chain, round: body.round, earned: '0', claimed: '0', claimable: '0' }
          : { status: 'ready', chain: body.chain, round: body.round, earned: body.cumulative, claimed: body.claimed, claimable: body.claimable };
      if (this.state.status === 'unreachable') next.error = undefined;
    } catch (error) {
      next = { status: 'unreachable', error: `rewards: ${message(error)}` };
    }
    if (mine === this.seq) this.set({ ...next, account });
  }

  /** After round `round` completed: refresh until the chain holds it (the outbox sends it shortly after). */
  refreshAfterRound(round: number, startedAt = Date.now(), delayMs = 500): void {
    clearTimeout(this.retry);
    void this.refresh().then(() => {
      const behind = this.state.status === 'ready' || this.state.status === 'none' ? (this.state.round ?? 0) < round : false;
      if (behind && Date.now() - startedAt < ROUND_WAIT_MS) {
        this.retry = setTimeout(() => this.refreshAfterRound(round, startedAt, Math.min(delayMs * 2, 5_000)), delayMs);
      }
    });
  }

  async claim(): Promise<void> {
    if (this.state.claiming) return;
    this.set({ claiming: true, error: undefined });
    let close: (() => void) | undefined;
    try {
      const signer = await this.options.signer();
      const body = await this.fetchRewards(signer.address);
      if (body === 'disabled') throw new Error('this run records no rewards');
      if (body.status === 'none') throw new Error('nothing is recorded on chain for this address yet');
      if (body.claimable === '0') throw new Error('nothing to claim: everything earned so far is paid');
      const runner = await claimRunner(signer, body.chain);
      close = runner.close;
      const ledger = connectLedger(body.chain.ledger, runner.runner);
      this.options.log(`claiming ${formatReward(body.claimable ?? body.cumulative, body.chain.token)} on chain ${body.chain.chainId}…`);
      const result = await claim(ledger, { runId: BigInt(body.chain.run), account: signer.address, cumulativeAmount: BigInt(body.cumulative), proof: body.proof });
      this.set({ txHash: result.txHash });
      this.options.log(`claimed ${formatReward(result.amount.toString(), body.chain.token)} in ${result.txHash}`);
    } catch (error) {
      this.set({ error: `claim failed: ${message(error)}` });
      this.options.log(`claim failed: ${message(error)}`);
    } finally {
      close?.();
      this.set({ claiming: false });
    }
    await this.refresh();
  }

  private async fetchRewards(account: string): Promise<'disabled' | (RewardsBody & { status: 'ready' }) | { status: 'none'; chain: RewardsChainInfo; round: number }> {
    const response = await fetch(`${this.options.apiBase}/api/rewards/${account}`, { cache: 'no-store' });
    const body = (await response.json().catch(() => ({}))) as Omit<Partial<RewardsBody>, 'enabled'> & { enabled?: boolean; error?: string; message?: string };
    if (response.status === 404 && body.error === 'E_LEDGER_NOT_IN_TREE' && body.chain) return { status: 'none', chain: body.chain, round: body.round ?? 0 };
    if (!response.ok) throw new Error(body.message ?? `the coordinator answered ${response.status}`);
    if (body.enabled === false) return 'disabled';
    return { ...(body as RewardsBody), status: 'ready' };
  }

  private set(patch: Partial<RewardsState>): void {
    Object.assign(this.state, patch);
    this.options.onChange(this.state);
  }
}

/**
 * A runner for the claim transaction on the run's chain: the tab's key over the chain's JSON-RPC
 * URL, or the injected wallet, switched to that chain first (a claim signed for another chain would
 * go nowhere).
 */
async function claimRunner(signer: PageSigner, chain: RewardsChainInfo): Promise<{ runner: ContractRunner; close: () => void }> {
  if (signer.kind === 'tab') {
    if (!chain.rpcUrl) throw new Error('the coordinator publishes no JSON-RPC URL for its chain');
    // The key file's text is the tab's private key (wallet.ts); the Wallet never leaves this page.
    const key = signer.exportKey?.().trim();
    if (!key) throw new Error("this tab's key cannot sign transactions");
    const provider = await connectChain(chain.rpcUrl, { chainId: chain.chainId });
    return { runner: walletSigner(key, provider), close: () => provider.destroy() };
  }
  const injected = injectedProvider() as Eip1193Provider | undefined;
  if (!injected) throw new Error('the wallet extension is gone');
  const current = Number(BigInt((await injected.request({ method: 'eth_chainId' })) as string));
  if (current !== chain.chainId) {
    try {
      await injected.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: `0x${chain.chainId.toString(16)}` }] });
    } catch (error) {
      throw new Error(`switch your wallet to chain ${chain.chainId} (${chain.rpcUrl ?? 'the run\'s chain'}) and try again: ${message(error)}`);
    }
  }
  const provider = new BrowserProvider(injected, chain.chainId);
  return { runner: await provider.getSigner(signer.address), close: () => provider.destroy() };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
