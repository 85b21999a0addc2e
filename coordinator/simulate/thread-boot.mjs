// Entry of the simulator's worker_threads. A thread does not inherit the tsx loader that runs the
// main thread's TypeScript, so it registers its own, then imports the thread's real module (named
// in workerData, so one boot file serves any thread module; see thread-pool.ts).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
