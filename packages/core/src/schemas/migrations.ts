/** The migrations' inputs: the engine's caps, planning a rebalance, and single moves (one file, one task). */
import { z } from 'zod';

import { STRATEGY_NAMES } from '../scheduler/balance.ts';
import { ZNodeNameSchema } from './shared.ts';

export const ZMigrationCapsPatchSchema = z
  .object({
    maxConcurrent: z.number().int().min(1).max(64).optional(),
    maxPerNodeOut: z.number().int().min(1).max(64).optional(),
    maxPerNodeIn: z.number().int().min(1).max(64).optional(),
    bandwidthBytesPerSec: z
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024 * 1024)
      .nullable()
      .optional(),
  })
  .strict();
export const ZMigrationIdSchema = z.object({ id: z.number().int().positive().optional() }).strict();
export const ZMigrationPlanInputSchema = z
  .object({
    strategy: z.enum(STRATEGY_NAMES).optional(),
    priority: z.number().int().min(1).max(10).default(5),
    deadline: z.iso.datetime({ offset: true }).nullish(),
  })
  .strict();

const migrationPriority = z.number().int('must be a whole number').min(1, 'must be at least 1').max(10, 'must be at most 10');
const migrationDeadline = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp such as 2026-05-01T12:00:00Z' });

/** One chosen file to one chosen node (`files.migrate`, `POST /api/files/{id}/migrate`). */
export const ZFileMigrateInputSchema = z.object({ uuid: z.uuid('must be a file uuid'), target: ZNodeNameSchema }).strict();
export type TFileMigrateInput = z.infer<typeof ZFileMigrateInputSchema>;

/** The seed's `add_migration_task`: one move, from the node the caller expects the file on. */
export const ZMigrationTaskAddInputSchema = z
  .object({
    uuid: z.uuid('must be a file uuid'),
    source: ZNodeNameSchema,
    target: ZNodeNameSchema,
    priority: migrationPriority.default(5),
    deadline: migrationDeadline.nullish(),
  })
  .strict()
  .refine((v) => v.source !== v.target, { message: 'target must differ from source', path: ['target'] });
export type TMigrationTaskAddInput = z.infer<typeof ZMigrationTaskAddInputSchema>;

/** A queued task's priority or deadline (null clears the deadline). */
/** What a task update changes (`PATCH /api/migrations/tasks/{id}` takes it as its body). */
export const ZMigrationTaskPatchSchema = z
  .object({ priority: migrationPriority.optional(), deadline: migrationDeadline.nullable().optional() })
  .strict();
export const ZMigrationTaskUpdateInputSchema = ZMigrationTaskPatchSchema.extend({
  id: z.number().int('must be a whole number').positive('must be a migration id'),
})
  .strict()
  .refine((v) => v.priority !== undefined || v.deadline !== undefined, {
    message: 'give a priority or a deadline (null clears it)',
    path: ['priority'],
  });
export type TMigrationTaskUpdateInput = z.infer<typeof ZMigrationTaskUpdateInputSchema>;
