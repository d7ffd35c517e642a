/** The storage nodes' inputs: drain, control, add (scale-up), decommission, and the capacity history. */
import { z } from 'zod';

import { LIMITS, ZNodeNameSchema } from './shared.ts';

export const ZDrainInputSchema = z
  .object({
    node: ZNodeNameSchema,
    reason: z.string().trim().max(LIMITS.maxReasonLength).optional(),
  })
  .strict();
export const ZNodeInputSchema = z.object({ node: ZNodeNameSchema }).strict();

export const ZNodeActionInputSchema = z
  .object({
    node: ZNodeNameSchema,
    action: z.enum(['stop', 'start', 'restart', 'kill']),
  })
  .strict();

/** Scale-up: a new storage node, optionally with its capacity (for utilization) and weight (for `weighted`). */
export const ZStorageNodeAddInputSchema = z
  .object({
    node: ZNodeNameSchema,
    capacityBytes: z
      .number()
      .int('must be a whole number of bytes')
      .min(1, 'must be at least 1 byte')
      .max(Number.MAX_SAFE_INTEGER)
      .optional(),
    weight: z.number().int('must be a whole number').min(0, 'must be at least 0').max(1_000, 'must be at most 1000').optional(),
  })
  .strict();
export type TStorageNodeAddInput = z.infer<typeof ZStorageNodeAddInputSchema>;

export const ZDecommissionInputSchema = z
  .object({
    node: ZNodeNameSchema,
    reason: z.string().max(LIMITS.maxReasonLength, `must be at most ${LIMITS.maxReasonLength} characters`).optional(),
  })
  .strict();

export const ZCapacityHistoryInputSchema = z
  .object({ limit: z.number().int().min(1).max(1_000).default(50) })
  .strict()
  .default({ limit: 50 });

export const ZCapacitySamplesInputSchema = z
  .object({
    since: z.iso.datetime({ message: 'since must be an ISO-8601 timestamp' }).optional(),
    limit: z.number().int().min(1).max(10_000).default(1_000),
  })
  .strict()
  .default({ limit: 1_000 });
