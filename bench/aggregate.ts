/**
 * FedAvg aggregation throughput: 100 updates × 1.66M parameters (the McMahan CNN), summed with
 * weights by the coordinator's own code, against a plain unweighted Float32Array sum in the same run.
 */
import { addScaledInto } from '../coordinator/strategy/vector-math.js';
import { medianMs } from './machine.js';

export async function run(): Promise<string> {
  const updates = 100;
  const length = 1_663_370;
  const vectors = Array.from({ length: updates }, (_, u) => new Float32Array(length).map((_, i) => ((i * 31 + u) % 97) / 97 - 0.5));
  const bytes = updates * length * 4;

  const fedavgMs = medianMs(5, () => {
    const sum = new Float32Array(length);
    for (let u = 0; u < updates; u++) addScaledInto(sum, vectors[u]!, 1 + (u % 7));
  });
  const plainMs = medianMs(5, () => {
    const sum = new Float32Array(length);
    for (let u = 0; u < updates; u++) {
      const x = vectors[u]!;
      for (let i = 0; i < length; i++) sum[i]! += x[i]!;
    }
  });
  const gbps = (ms: number): string => (bytes / 1e9 / (ms / 1000)).toFixed(2);
  return [
    `| what | time (median of 5) | throughput |`,
    `|---|---|---|`,
    `| FedAvg weighted sum (addScaledInto), ${updates} × ${length.toLocaleString('en-US')} | ${fedavgMs.toFixed(0)} ms | ${gbps(fedavgMs)} GB/s |`,
    `| plain Float32Array sum, same data | ${plainMs.toFixed(0)} ms | ${gbps(plainMs)} GB/s |`,
  ].join('\n');
}
