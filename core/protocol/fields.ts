/**
 * The scalar fields that several wire messages share, declared once so their bounds cannot drift
 * apart: messages.ts (train, update, …), secagg.ts (every SecAgg+ stage) and evaluate.ts use them.
 */
import { z } from 'zod';

/** A run's id: what the coordinator announces in `welcome` and every round message repeats. */
export const runIdSchema = z.string().min(1).max(128);
/** A round number (0 is the initial model). */
export const roundSchema = z.number().int().min(0).max(1_000_000);
/** A model's weights, or a delta: msgpackr (core/protocol/codec.ts) decodes them as a real Float32Array. */
export const float32ArraySchema = z.custom<Float32Array>((v) => v instanceof Float32Array, { message: 'a Float32Array (msgpack typed array)' });
