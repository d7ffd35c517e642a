/** The files' inputs: generate in bulk, list, address one file, upload. */
import { z } from 'zod';

import { byteBudgetMessage, fileCount, sizeKb, withinByteBudget } from './generated-file-bounds.ts';
import { LIMITS, ZNodeNameSchema } from './shared.ts';

export const ZBulkGenerateInputSchema = z
  .object({
    count: fileCount,
    sizeKb: sizeKb.default(64),
    placement: z.enum(['auto', 'pinned']).default('auto'),
    node: ZNodeNameSchema.optional(),
    triggerScheduler: z.boolean().default(false),
  })
  .strict()
  .refine((v) => v.placement !== 'pinned' || v.node !== undefined, {
    message: 'placement "pinned" needs a node',
    path: ['node'],
  })
  .refine((v) => withinByteBudget(v.count, v.sizeKb), { message: byteBudgetMessage, path: ['count'] });
export type TBulkGenerateInput = z.infer<typeof ZBulkGenerateInputSchema>;

export const ZFilesListInputSchema = z
  .object({
    node: ZNodeNameSchema.optional(),
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(50),
    offset: z.number().int().min(0).default(0),
  })
  .strict();
export type TFilesListInput = z.infer<typeof ZFilesListInputSchema>;

export const ZFileIdSchema = z.object({ uuid: z.uuid('must be a file uuid') }).strict();

/** The non-file fields of an upload; the file name is checked again by the storage (no paths, no dot files). */
export const ZUploadFieldsSchema = z
  .object({
    node: ZNodeNameSchema,
    name: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
      .optional(),
  })
  .strict();
