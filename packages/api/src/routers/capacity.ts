import { ZCapacityHistoryInputSchema, ZCapacitySamplesInputSchema } from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const capacityRouter = createTRPCRouter({
  /** scale_up / scale_down / no_action now, with the figures and the reason, from usage and its recorded trend. */
  recommendation: publicProcedure.query(({ ctx }) => ctx.services.capacity.recommendation()),

  /** Past recommendations, newest first: one row each time the advice changed (or hourly). */
  history: publicProcedure.input(ZCapacityHistoryInputSchema).query(({ ctx, input }) => ctx.services.capacity.history(input.limit)),

  /** Recorded cluster usage over time (oldest first): what the trend is fitted over. */
  samples: publicProcedure.input(ZCapacitySamplesInputSchema).query(({ ctx, input }) => ctx.services.capacity.samples(input)),

  /** Samples usage now and records the recommendation if it changed (it also runs on its interval). */
  sample: publicProcedure.mutation(({ ctx }) => {
    const { recommendation, recorded } = ctx.services.capacity.tick();
    return { recommendation, recorded };
  }),
});
