/**
 * Node workers started as child processes of this coordinator (`--local-workers N`, the demo).
 * They are tied to this process twice over: stopped when it stops, and, through an IPC channel
 * that closes when it dies, they exit on their own even if it is killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const COHORT_BIN = fileURLToPath(new URL('../../bin/cohort.js', import.meta.url));

export interface LocalWorkerSpec {
  coordinator: string;
  keyFile: string;
  shard: { index: number; count: number };
  backend?: string;
}

export class LocalWorkers {
  private readonly children: ChildProcess[] = [];
  private readonly tails = new Map<ChildProcess, string[]>();

  constructor(private readonly onLine: (worker: number, line: string) => void = () => undefined) {}

  start(specs: readonly LocalWorkerSpec[]): void {
    specs.forEach((spec) => {
      const index = this.children.length;
      const args = [COHORT_BIN, 'worker', '--coordinator', spec.coordinator, '--key', spec.keyFile, '--shard', `${spec.shard.index}/${spec.shard.count}`];
      if (spec.backend) args.push('--backend', spec.backend);
      const child = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, COHORT_EXIT_WITH_PARENT: '1' },
      });
      const tail: string[] = [];
      this.tails.set(child, tail);
      const onData = (chunk: Buffer): void => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > 50) tail.shift();
          this.onLine(index, line);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('error', (error) => this.onLine(index, `failed to start: ${error.message}`));
      this.children.push(child);
    });
  }

  /** The last lines a worker printed, for error reports. */
  tail(index: number): string[] {
    const child = this.children[index];
    return child ? [...(this.tails.get(child) ?? [])] : [];
  }

  get count(): number {
    return this.children.length;
  }

  /** SIGTERM every worker, then SIGKILL those still alive after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }

  /** Wait for every worker to exit by itself (they do when the run ends), up to `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    const all = Promise.all(
      this.children.map((child) =>
        child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve())),
      ),
    ).then(() => true);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    return Promise.race([all, timeout]);
  }

  /** Synchronous last resort for process exit handlers. */
  killAllNow(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
