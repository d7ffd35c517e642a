import { tracked } from '@trpc/server';

import { ZSchedulerConfigPatchSchema, ZSchedulerRunInputSchema } from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const schedulerRouter = createTRPCRouter({
  diagnostics: publicProcedure.query(({ ctx }) => ctx.services.scheduler.diagnostics()),

  /** One round now; in whole_plan mode it waits up to `waitMs` for its moves (see RUN_WAIT_MS). */
  run: publicProcedure.input(ZSchedulerRunInputSchema).mutation(({ ctx, input }) => ctx.services.scheduler.run('manual', input)),

  config: publicProcedure.query(({ ctx }) => ctx.services.scheduler.getConfig()),

  setConfig: publicProcedure.input(ZSchedulerConfigPatchSchema).mutation(({ ctx, input }) => ctx.services.scheduler.setConfig(input)),

  /** The live plan: the current one at once, then every re-plan. */
  onPlan: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const { events } = ctx.services;
    const stream = events.stream('plan', signal); // attach before the first yield so no re-plan is missed
    let seq = 0;
    yield tracked(String(++seq), ctx.services.currentPlan());
    for await (const [plan] of stream) yield tracked(String(++seq), plan);
  }),
});
