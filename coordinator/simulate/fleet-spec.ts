/**
 * The run file's `simulation` block (used by `cohort simulate` only; other commands ignore it):
 * how fast each simulated client is, which ones vanish, and which are adversaries. Everything is
 * drawn from the run's seed, so a file simulates the same fleet every time.
 *
 * Vanishing model: a fixed, seeded subset of ⌊vanishShare × clients⌋ clients goes away for good,
 * halfway (in simulated time) through the first round it is selected for: an ordinary dropout.
 */
import { z } from 'zod';

export const ADVERSARY_KINDS = ['zero', 'noise', 'labelflip', 'replay'] as const;
export type AdversaryKind = (typeof ADVERSARY_KINDS)[number];
export type ClientClass = 'honest' | AdversaryKind;

const speedFactorsSchema = z.strictObject({
  distribution: z.enum(['log-uniform', 'uniform', 'constant']),
  min: z.number().positive().max(1e6).default(1),
  max: z.number().positive().max(1e6).default(1),
}).refine((s) => s.max >= s.min, { message: 'max must be at least min', path: ['max'] });

/** Simulated seconds of one local step on a factor-1 client, when the file gives none. */
export const DEFAULT_BASE_STEP_SECONDS = 0.01;

export const simulationFieldSchema = z.strictObject({
  /** Each client's slowness: its step time is baseStepSeconds × its factor. */
  speedFactors: speedFactorsSchema.optional(),
  /** Simulated seconds one local step takes on the fastest (factor 1) client. */
  baseStepSeconds: z.number().positive().max(3600).default(DEFAULT_BASE_STEP_SECONDS),
  /** Share of clients that vanish mid-round (see the file comment). */
  vanishShare: z.number().min(0).max(1).default(0),
  adversaries: z.array(z.strictObject({ kind: z.enum(ADVERSARY_KINDS), share: z.number().min(0).max(1) })).default([]),
}).refine((s) => s.adversaries.reduce((n, a) => n + a.share, 0) <= 1 + 1e-9, { message: 'the adversaries\' shares sum to more than 1', path: ['adversaries'] });

export type SimulationSpec = z.output<typeof simulationFieldSchema>;

/** A small seeded PRNG (mulberry32): the fleet is part of the experiment, so it must be reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FleetMember {
  speedFactor: number;
  vanishes: boolean;
  role: ClientClass;
}

/** Seeded shuffle of 0..n−1. */
export function shuffled(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Every client's speed factor, vanishing and role; without a spec, a uniform honest fleet. */
export function drawFleet(spec: SimulationSpec | undefined, clients: number, seed: number): FleetMember[] {
  const random = seededRandom(seed ^ 0x5f1ee7);
  const speeds = spec?.speedFactors;
  const fleet: FleetMember[] = Array.from({ length: clients }, () => {
    const u = random();
    let speedFactor = 1;
    if (speeds?.distribution === 'log-uniform') speedFactor = Math.exp(Math.log(speeds.min) + u * (Math.log(speeds.max) - Math.log(speeds.min)));
    else if (speeds?.distribution === 'uniform') speedFactor = speeds.min + u * (speeds.max - speeds.min);
    else if (speeds?.distribution === 'constant') speedFactor = speeds.min;
    return { speedFactor, vanishes: false, role: 'honest' };
  });
  if (!spec) return fleet;
  for (const index of shuffled(clients, random).slice(0, Math.floor(spec.vanishShare * clients))) fleet[index]!.vanishes = true;
  // Adversaries: consecutive slices of one seeded order, each ⌊share × clients⌋ long.
  const order = shuffled(clients, random);
  let next = 0;
  for (const { kind, share } of spec.adversaries) {
    for (const index of order.slice(next, next + Math.floor(share * clients))) fleet[index]!.role = kind;
    next += Math.floor(share * clients);
  }
  return fleet;
}
