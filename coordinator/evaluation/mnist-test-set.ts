/** MNIST's 10k test images (coordinator/data/mnist.ts): the demo's held-out set. */
import type { LocalDataset } from '../../core/data/dataset.js';
import { mnistDataset } from '../../core/data/mnist.js';
import { readMnist } from '../data/mnist.js';

export async function loadMnistTestSet(): Promise<LocalDataset> {
  return mnistDataset(await readMnist('test'));
}
