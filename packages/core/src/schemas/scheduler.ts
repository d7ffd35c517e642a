/** The scheduler's inputs: its settings and a manual run. */
import { z } from 'zod';

import { STRATEGY_NAMES } from '../scheduler/balance.ts';
import { LIMITS } from './shared.ts';

/**
 * How the scheduler acts on a plan: the seed's one move per round, or the whole plan queued at once (the
 * default). Declared once: the server's SCHEDULER_MODE setting, this schema and the services read it.
 */
export const SCHEDULER_MODES = ['one_per_tick', 'whole_plan'] as const;
export type SchedulerMode = (typeof SCHEDULER_MODES)[number];

export const ZSchedulerConfigPatchSchema = z
  .object({
    enabled: z.boolean().optional(),
    intervalSec: z.number().min(LIMITS.minIntervalSec).max(LIMITS.maxIntervalSec).optional(),
    threshold: z.number().int().min(1).max(LIMITS.maxThreshold).optional(),
    mode: z.enum(SCHEDULER_MODES).optional(),
    strategy: z.enum(STRATEGY_NAMES).optional(),
    highWatermark: z.number().gt(0).max(1).optional(),
  })
  .strict();
export type TSchedulerConfigPatch = z.infer<typeof ZSchedulerConfigPatchSchema>;

/**
 * How long `scheduler.run` waits for the moves of its round (ms): by default, and at most. The moves go on in
 * the background past it; the answer then says how many are still pending.
 */
export const RUN_WAIT_MS = { default: 10_000, max: 60_000 } as const;
export const ZSchedulerRunInputSchema = z
  .object({ waitMs: z.number().int().min(0).max(RUN_WAIT_MS.max).default(RUN_WAIT_MS.default) })
  .strict()
  .default({ waitMs: RUN_WAIT_MS.default });
export type TSchedulerRunInput = z.input<typeof ZSchedulerRunInputSchema>;
