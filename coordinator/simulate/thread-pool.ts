/**
 * A fixed pool of worker_threads that run tasks one at a time each, first come first served.
 * The simulator trains thousands of clients' rounds on a few threads this way: a thread holds one
 * model and is handed one client's task after another.
 *
 * Protocol with a thread (its module is loaded by thread-boot.mjs, which registers tsx first):
 *   thread → pool  { type: 'ready', info }                       once, after its setup
 *   pool → thread  { type: 'task', id, task }                    one at a time per thread
 *   pool → thread  { type: 'abort', id }                         the task's caller gave up
 *   thread → pool  { type: 'done', id, result } | { type: 'failed', id, code?, message }
 */
import { Worker, type Transferable } from 'node:worker_threads';
import { CohortError, isErrorCode } from '../../core/protocol/errors.js';

export type ThreadReply<R> =
  | { type: 'ready'; info: unknown }
  | { type: 'done'; id: number; result: R }
  | { type: 'failed'; id: number; code?: string; message: string };

export type ThreadRequest<T> = { type: 'task'; id: number; task: T } | { type: 'abort'; id: number };

interface Job<T, R> {
  id: number;
  task: T;
  transfer: Transferable[];
  resolve: (result: R) => void;
  reject: (error: Error) => void;
  signal?: AbortSignal | undefined;
  onAbort?: (() => void) | undefined;
}

interface Slot<T, R> {
  worker: Worker;
  job: Job<T, R> | undefined;
}

export interface ThreadPoolOptions {
  /** How many threads. */
  size: number;
  /** The thread's module (a .ts file URL); thread-boot.mjs imports it. */
  module: URL;
  /** Handed to every thread as `workerData.init`. */
  init: unknown;
  /** How long a thread may take to report ready. */
  startTimeoutMs?: number;
}

const BOOT = new URL('./thread-boot.mjs', import.meta.url);

export class ThreadPool<T, R> {
  private readonly slots: Slot<T, R>[] = [];
  private readonly queue: Job<T, R>[] = [];
  private nextId = 1;
  private closed = false;
  /** What each thread reported when it became ready (its backend, …). */
  readonly infos: unknown[] = [];

  private constructor(private readonly options: ThreadPoolOptions) {}

  static async start<T, R>(options: ThreadPoolOptions): Promise<ThreadPool<T, R>> {
    const pool = new ThreadPool<T, R>(options);
    try {
      await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.queue.length;
  }

  /** Runs `task` on the next free thread; `transfer` lists buffers to move rather than copy. */
  run(task: T, options: { transfer?: Transferable[]; signal?: AbortSignal | undefined } = {}): Promise<R> {
    if (this.closed) return Promise.reject(new CohortError('E_INTERNAL', 'the thread pool is closed'));
    options.signal?.throwIfAborted();
    return new Promise<R>((resolve, reject) => {
      const job: Job<T, R> = { id: this.nextId++, task, transfer: options.transfer ?? [], resolve, reject, signal: options.signal };
      if (job.signal) {
        job.onAbort = () => this.abort(job);
        job.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new CohortError('E_INTERNAL', 'the thread pool closed'));
    await Promise.all(
      this.slots.splice(0).map((slot) => {
        if (slot.job) this.settle(slot.job, new CohortError('E_INTERNAL', 'the thread pool closed'));
        return slot.worker.terminate();
      }),
    );
  }

  private spawn(): Promise<void> {
    const worker = new Worker(BOOT, { workerData: { module: this.options.module.href, init: this.options.init } });
    const slot: Slot<T, R> = { worker, job: undefined };
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CohortError('E_INTERNAL', 'a training thread did not start in time')), this.options.startTimeoutMs ?? 120_000);
      worker.on('message', (reply: ThreadReply<R>) => {
        if (reply.type === 'ready') {
          clearTimeout(timer);
          this.infos.push(reply.info);
          this.slots.push(slot);
          resolve();
          this.dispatch();
          return;
        }
        const job = slot.job;
        if (!job || job.id !== reply.id) return;
        slot.job = undefined;
        if (reply.type === 'done') this.settle(job, undefined, reply.result);
        else this.settle(job, new CohortError(isErrorCode(reply.code) ? reply.code : 'E_INTERNAL', reply.message));
        this.dispatch();
      });
      worker.on('error', (error) => {
        clearTimeout(timer);
        reject(new CohortError('E_INTERNAL', `training thread failed: ${error.message}`, { cause: error }));
        this.onThreadDeath(slot, error);
      });
      worker.on('exit', (code) => {
        if (!this.closed) this.onThreadDeath(slot, new Error(`training thread exited with code ${code}`));
      });
    });
  }

  /** A thread died: its task fails, and a new thread takes its place. */
  private onThreadDeath(slot: Slot<T, R>, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    if (slot.job) this.settle(slot.job, new CohortError('E_INTERNAL', `training thread died: ${error.message}`));
    slot.job = undefined;
    if (!this.closed) this.spawn().catch(() => undefined);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      const request: ThreadRequest<T> = { type: 'task', id: job.id, task: job.task };
      slot.worker.postMessage(request, job.transfer);
    }
  }

  private abort(job: Job<T, R>): void {
    const queuedAt = this.queue.indexOf(job);
    if (queuedAt >= 0) this.queue.splice(queuedAt, 1);
    const slot = this.slots.find((s) => s.job === job);
    // The thread stops between steps; its slot frees when it reports the task failed.
    if (slot) slot.worker.postMessage({ type: 'abort', id: job.id } satisfies ThreadRequest<T>);
    this.settle(job, job.signal?.reason instanceof Error ? job.signal.reason : new CohortError('E_INTERNAL', 'task aborted'));
  }

  private settle(job: Job<T, R>, error: Error | undefined, result?: R): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.onAbort = undefined;
    if (error) job.reject(error);
    else job.resolve(result as R);
  }
}
