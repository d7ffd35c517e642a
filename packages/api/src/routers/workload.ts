import { tracked } from '@trpc/server';

import { ZStressInputSchema, ZTasksListInputSchema, ZWorkloadConfigPatchSchema } from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const workloadRouter = createTRPCRouter({
  stress: publicProcedure.input(ZStressInputSchema).mutation(({ ctx, input }) => ctx.services.workload.stress(input)),

  tasks: publicProcedure.input(ZTasksListInputSchema).query(({ ctx, input }) => ({
    items: ctx.services.workload.tasks(input),
    counts: ctx.services.workload.taskCounts(),
  })),

  /** The demo workload generator: on/off, its bounds, and what it holds now. */
  state: publicProcedure.query(({ ctx }) => ctx.services.demo.state()),
  start: publicProcedure.mutation(({ ctx }) => ctx.services.demo.start()),
  stop: publicProcedure.mutation(({ ctx }) => ctx.services.demo.stop()),
  configure: publicProcedure.input(ZWorkloadConfigPatchSchema).mutation(({ ctx, input }) => ctx.services.demo.configure(input)),

  /** Progress of generations and scheduler runs, for progress bars. */
  onProgress: publicProcedure.subscription(async function* ({ ctx, signal }) {
    let seq = 0;
    for await (const [p] of ctx.services.events.stream('progress', signal)) yield tracked(String(++seq), p);
  }),
});
