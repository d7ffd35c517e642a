import { z } from 'zod';

import { AppError } from '@zkha/core';
import {
  ZBulkGenerateInputSchema,
  ZFileIdSchema,
  ZFileMigrateInputSchema,
  ZFilesListInputSchema,
  ZUploadFieldsSchema,
} from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const filesRouter = createTRPCRouter({
  list: publicProcedure.input(ZFilesListInputSchema).query(({ ctx, input }) => ctx.services.files.list(input)),

  byId: publicProcedure.input(ZFileIdSchema).query(({ ctx, input }) => ctx.services.files.byId(input.uuid)),

  bulkGenerate: publicProcedure.input(ZBulkGenerateInputSchema).mutation(({ ctx, input }) => ctx.services.workload.bulkGenerate(input)),

  /**
   * Upload as multipart FormData (fields node, name, file, optional sha256), from the browser or the SDK via
   * httpLink. The file streams to disk under the node's folder with the size limit and checksum checked.
   */
  upload: publicProcedure.input(z.instanceof(FormData, { message: 'send multipart form data' })).mutation(async ({ ctx, input }) => {
    const fields = ZUploadFieldsSchema.parse({
      node: input.get('node'),
      name: input.get('name'),
      ...(input.get('sha256') !== null ? { sha256: input.get('sha256') } : {}),
    });
    const file = input.get('file');
    if (!(file instanceof Blob)) throw new AppError('BAD_INPUT', 'file: attach the file as the "file" field');
    // Needed where the importer's lib types a web ReadableStream without async iteration (the CLI's, through the SDK).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    return ctx.services.files.upload(fields.node, fields.name, file.stream() as unknown as AsyncIterable<Uint8Array>, {
      maxBytes: ctx.services.config.uploadMaxBytes,
      ...(fields.sha256 ? { expectedSha256: fields.sha256 } : {}),
    });
  }),

  /** Consistency check of disk, database and ZooKeeper; `repair` fixes what can be fixed without losing bytes. */
  verify: publicProcedure
    .input(z.object({ repair: z.boolean().default(false) }).strict())
    .mutation(({ ctx, input }) => ctx.services.files.verify(input)),

  delete: publicProcedure.input(ZFileIdSchema).mutation(({ ctx, input }) => ctx.services.files.delete(input.uuid)),

  /**
   * Moves one chosen file to one chosen node: queued at priority 10 and run under the caps like every move.
   * Refused (with the rule in words) when the target is unknown, drained, offline or would pass its high
   * watermark, or the file is unknown, already there or already moving. Returns the queued task.
   */
  migrate: publicProcedure.input(ZFileMigrateInputSchema).mutation(({ ctx, input }) => ctx.services.migrationTasks.moveFile(input)),
});
