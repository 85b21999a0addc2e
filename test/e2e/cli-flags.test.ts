import { describe, expect, it } from 'vitest';
import { spawnCohort } from './helpers.js';

async function run(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const p = spawnCohort(args);
  const { code } = await p.exited;
  return { code, lines: p.output };
}

describe('cohort CLI: bad flags and values', () => {
  it.each([
    [['demo', '--workers', 'abc'], /--workers: expected an integer/],
    [['demo', '--workers', '0'], /--workers and --browser-workers add up to 0/],
    [['demo', '--workers=-1'], /--workers: expected an integer from 0/],
    [['demo', '--partition', 'weird'], /--partition: expected one of iid\|shards\|dirichlet/],
    [['demo', '--lr', '0'], /--lr: expected a number/],
    [['demo', '--lr=-1'], /--lr: expected a number/],
    [['demo', '--target-accuracy', '1.5'], /--target-accuracy: expected a number from 0 to 1/],
    [['demo', '--bogus'], /Unknown option '--bogus'/],
    [['serve', '--tls-cert', 'cert.pem'], /--tls-cert and --tls-key must be given together/],
    [['serve', '--port', '70000'], /--port: expected an integer from 0 to 65535/],
    [['serve', '--public-url', 'https://fl.example.org/ws'], /--public-url: expected ws:\/\/ or wss:\/\/ URLs/],
    [['worker', '--key', 'k'], /--coordinator URL is required/],
    [['worker', '--coordinator', 'http://x', '--key', 'k'], /expected a ws:\/\/ or wss:\/\/ URL/],
    [['worker', '--coordinator', 'ws://x/ws', '--key', 'k', '--shard', '4/4'], /--shard: expected i\/n/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('cohort %j fails with one line and a non-zero exit', async (args, message) => {
    const { code, lines } = await run(args);
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^cohort: E_CLI_USAGE: /);
    expect(lines[0]).toMatch(message);
  });

  it('prints help with exit 0', async () => {
    const { code, lines } = await run(['help', 'worker']);
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain('--coordinator URL');
  });
});
