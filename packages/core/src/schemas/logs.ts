/** The history's inputs: the operations log and the log search (a page, or a live tail). */
import { z } from 'zod';

import { LIMITS, ZNodeNameSchema } from './shared.ts';

export const OPERATION_STATUSES = ['success', 'failed', 'skipped'] as const;
export const ZOperationsListInputSchema = z
  .object({
    action: z.string().max(64).optional(),
    node: ZNodeNameSchema.optional(),
    status: z.enum(OPERATION_STATUSES).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    text: z.string().max(200).optional(),
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(50),
    cursor: z.number().int().positive().nullish(),
    // Sent by TanStack's infinite queries through tRPC; paging here is always newest first, by cursor.
    direction: z.enum(['forward', 'backward']).optional(),
  })
  .strict();
export type TOperationsListInput = z.infer<typeof ZOperationsListInputSchema>;

export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const ZLogFilterShape = {
  text: z.string().max(500).optional(),
  level: z.enum(LOG_LEVEL_NAMES).optional(),
  sources: z.array(z.string().min(1).max(64)).max(20).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};
export const ZLogSearchInputSchema = z
  .object({
    ...ZLogFilterShape,
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(100),
    cursor: z.string().max(200).nullish(),
    direction: z.enum(['forward', 'backward']).optional(),
  })
  .strict();
export type TLogSearchInput = z.infer<typeof ZLogSearchInputSchema>;
export const ZLogTailInputSchema = z.object({ ...ZLogFilterShape, lastEventId: z.string().regex(/^\d+$/).nullish() }).strict();
