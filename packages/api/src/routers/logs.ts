import { tracked } from '@trpc/server';
import { z } from 'zod';

import { ZLogSearchInputSchema, ZLogTailInputSchema, ZOperationsListInputSchema } from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const logsRouter = createTRPCRouter({
  /** Full-text search over the server's and the ZooKeeper nodes' logs, newest first, with highlighted matches. */
  search: publicProcedure.input(ZLogSearchInputSchema).query(({ ctx, input }) => ctx.services.logs.search(input)),

  /** Log lines as they are ingested, filtered; resumes after `lastEventId` with what was missed. */
  onLine: publicProcedure.input(ZLogTailInputSchema.optional()).subscription(async function* ({ ctx, input, signal }) {
    const { lastEventId, ...filter } = input ?? {};
    for await (const e of ctx.services.logs.follow(filter, lastEventId, signal)) yield tracked(String(e.id), e);
  }),

  operations: publicProcedure.input(ZOperationsListInputSchema).query(({ ctx, input }) => ctx.services.operations.list(input)),

  /**
   * New operations as they are recorded. A client that reconnects sends the last id it saw
   * (`lastEventId`, set by tracked()) and first receives what it missed.
   */
  onOperation: publicProcedure
    .input(z.object({ lastEventId: z.string().regex(/^\d+$/).nullish() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      const { events, operations } = ctx.services;
      const stream = events.stream('operation', signal); // attach first, then backfill: nothing falls in the gap
      let lastId = input?.lastEventId ? Number(input.lastEventId) : null;
      if (lastId !== null) {
        for (const op of operations.since(lastId)) {
          lastId = op.id;
          yield tracked(String(op.id), op);
        }
      }
      for await (const [op] of stream) {
        if (lastId !== null && op.id <= lastId) continue; // already sent by the backfill
        lastId = op.id;
        yield tracked(String(op.id), op);
      }
    }),
});
