import { tracked } from '@trpc/server';

import { ZDrainInputSchema, ZNodeInputSchema } from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const nodesRouter = createTRPCRouter({
  list: publicProcedure.query(({ ctx }) => ctx.services.nodes.list()),

  summary: publicProcedure.query(async ({ ctx }) => ctx.services.cluster.summary(await ctx.services.cluster.stats())),

  drain: publicProcedure.input(ZDrainInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.drain(input.node, input.reason)),

  undrain: publicProcedure.input(ZNodeInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.undrain(input.node)),

  /** Node cards, live: the current view at once, then after every probe of the ensemble. */
  onStatus: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const { events, nodes, cluster } = ctx.services;
    const stream = events.stream('nodes', signal);
    let seq = 0;
    yield tracked(String(++seq), { nodes: await nodes.list(), summary: cluster.summary() });
    for await (const [stats] of stream) yield tracked(String(++seq), { nodes: nodes.merge(stats), summary: cluster.summary(stats) });
  }),

  /** Leader changes, nodes going down or up, quorum lost or back. */
  onEvent: publicProcedure.subscription(async function* ({ ctx, signal }) {
    let seq = 0;
    for await (const [event] of ctx.services.events.stream('cluster', signal)) yield tracked(String(++seq), event);
  }),
});
