import { tracked } from '@trpc/server';

import { ZSchedulerConfigPatchSchema } from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const schedulerRouter = createTRPCRouter({
  diagnostics: publicProcedure.query(({ ctx }) => ctx.services.scheduler.diagnostics()),

  run: publicProcedure.mutation(({ ctx }) => ctx.services.scheduler.run('manual')),

  config: publicProcedure.query(({ ctx }) => ctx.services.scheduler.getConfig()),

  setConfig: publicProcedure
    .input(ZSchedulerConfigPatchSchema)
    .mutation(({ ctx, input }) => ctx.services.scheduler.setConfig(input)),

  /** The live plan: the current one at once, then every re-plan. */
  onPlan: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const { events } = ctx.services;
    const stream = events.stream('plan', signal); // attach before the first yield so no re-plan is missed
    let seq = 0;
    yield tracked(String(++seq), ctx.services.currentPlan());
    for await (const [plan] of stream) yield tracked(String(++seq), plan);
  }),
});
