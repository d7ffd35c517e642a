import { tracked } from '@trpc/server';

import { ZStressInputSchema, ZTasksListInputSchema } from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const workloadRouter = createTRPCRouter({
  stress: publicProcedure.input(ZStressInputSchema).mutation(({ ctx, input }) => ctx.services.workload.stress(input)),

  tasks: publicProcedure.input(ZTasksListInputSchema).query(({ ctx, input }) => ({
    items: ctx.services.workload.tasks(input),
    counts: ctx.services.workload.taskCounts(),
  })),

  /** Progress of generations and scheduler runs, for progress bars. */
  onProgress: publicProcedure.subscription(async function* ({ ctx, signal }) {
    let seq = 0;
    for await (const [p] of ctx.services.events.stream('progress', signal)) yield tracked(String(++seq), p);
  }),
});
