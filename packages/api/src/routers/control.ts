import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const controlRouter = createTRPCRouter({
  /** The zkha instances on this ensemble, which one leads and since when, and the last takeovers with their timings. */
  status: publicProcedure.query(({ ctx }) => ctx.services.controlStatus()),
});
