/** The workload's inputs: a stress run on one node, the task list, the demo generator's settings. */
import { z } from 'zod';

import { byteBudgetMessage, fileCount, sizeKb, withinByteBudget } from './generated-file-bounds.ts';
import { LIMITS, ZNodeNameSchema } from './shared.ts';

export const ZStressInputSchema = z
  .object({
    node: ZNodeNameSchema,
    files: fileCount,
    sizeKb: sizeKb.default(128),
    triggerScheduler: z.boolean().default(false),
  })
  .strict()
  .refine((v) => withinByteBudget(v.files, v.sizeKb), { message: byteBudgetMessage, path: ['files'] });
export type TStressInput = z.infer<typeof ZStressInputSchema>;

export const TASK_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export const ZTasksListInputSchema = z
  .object({
    status: z.enum(TASK_STATUSES).optional(),
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(50),
  })
  .strict();

export const ZWorkloadConfigPatchSchema = z
  .object({
    intervalSec: z.number().min(1).max(86_400).optional(),
    maxFiles: z.number().int().min(0).max(100_000).optional(),
    maxBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024 * 1024)
      .optional(),
    minSizeKb: z.number().int().min(1).max(LIMITS.maxSizeKb).optional(),
    maxSizeKb: z.number().int().min(1).max(LIMITS.maxSizeKb).optional(),
    extraClients: z.number().int().min(0).max(100).optional(),
  })
  .strict()
  .refine((v) => v.minSizeKb === undefined || v.maxSizeKb === undefined || v.minSizeKb <= v.maxSizeKb, {
    message: 'minSizeKb must not exceed maxSizeKb',
    path: ['minSizeKb'],
  });
