import { tracked } from '@trpc/server';
import { z } from 'zod';

import { AppError } from '@zkha/core';
import { ZLogSearchInputSchema, ZLogTailInputSchema, ZOperationsListInputSchema } from '@zkha/core/schemas';
import { compileFilter, type LogEntry, type LogStore } from '@zkha/logs';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

function store(ctx: { services: { logStore: LogStore | null } }): LogStore {
  if (!ctx.services.logStore) throw new AppError('NOT_SUPPORTED', 'no log store is configured on this server');
  return ctx.services.logStore;
}

export const logsRouter = createTRPCRouter({
  /** Full-text search over the server's and the ZooKeeper nodes' logs, newest first, with highlighted matches. */
  search: publicProcedure.input(ZLogSearchInputSchema).query(({ ctx, input }) => {
    const { direction: _direction, cursor, ...query } = input;
    return store(ctx).search({ ...query, ...(cursor ? { cursor } : {}), withTotal: !cursor });
  }),

  /** Log lines as they are ingested, filtered; resumes after `lastEventId` with what was missed. */
  onLine: publicProcedure.input(ZLogTailInputSchema.optional()).subscription(async function* ({ ctx, input, signal }) {
    const logs = store(ctx);
    const { lastEventId, ...filter } = input ?? {};
    const matches = compileFilter(filter);
    // Attach before the backfill so nothing appended in between is lost; de-duplicate by id.
    const queue: LogEntry[] = [];
    let wake: (() => void) | null = null;
    const off = logs.onAppend((entries) => {
      queue.push(...entries);
      wake?.();
    });
    try {
      let lastId = lastEventId ? Number(lastEventId) : await logs.latestId();
      if (lastEventId) {
        for (const e of await logs.since(lastId, filter)) {
          lastId = e.id;
          yield tracked(String(e.id), e);
        }
      }
      while (!signal?.aborted) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            signal?.addEventListener('abort', () => resolve(), { once: true });
          });
          wake = null;
          continue;
        }
        const e = queue.shift()!;
        if (e.id <= lastId || !matches(e)) continue;
        lastId = e.id;
        yield tracked(String(e.id), e);
      }
    } finally {
      off();
    }
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
