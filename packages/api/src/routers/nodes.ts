import { tracked } from '@trpc/server';

import {
  ZDecommissionInputSchema,
  ZDrainInputSchema,
  ZNodeActionInputSchema,
  ZNodeInputSchema,
  ZStorageNodeAddInputSchema,
} from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const nodesRouter = createTRPCRouter({
  list: publicProcedure.query(({ ctx }) => ctx.services.nodes.list()),

  summary: publicProcedure.query(async ({ ctx }) => ctx.services.cluster.summary(await ctx.services.cluster.stats())),

  drain: publicProcedure.input(ZDrainInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.drain(input.node, input.reason)),

  undrain: publicProcedure.input(ZNodeInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.undrain(input.node)),

  /** Which driver controls nodes (process, docker) or 'disabled': the UI hides the buttons when disabled. */
  control: publicProcedure.query(({ ctx }) => ({ kind: ctx.services.nodes.controlKind })),

  /** The confirmation text for an action: "stopping zk2 leaves 2 of 3: quorum kept". */
  impact: publicProcedure.input(ZNodeActionInputSchema).query(({ ctx, input }) => ctx.services.nodes.impact(input.node, input.action)),

  runtime: publicProcedure.input(ZNodeInputSchema).query(({ ctx, input }) => ctx.services.nodes.runtime(input.node)),

  stop: publicProcedure.input(ZNodeInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.control(input.node, 'stop')),
  start: publicProcedure.input(ZNodeInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.control(input.node, 'start')),
  restart: publicProcedure.input(ZNodeInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.control(input.node, 'restart')),
  /** SIGKILL: a failure drill, not a way to stop a node. */
  kill: publicProcedure.input(ZNodeInputSchema).mutation(({ ctx, input }) => ctx.services.nodes.control(input.node, 'kill')),

  /** Storage-agent liveness as the `stores` table holds it. */
  stores: publicProcedure.query(({ ctx }) => ctx.services.liveness?.list() ?? []),

  /** Runs the full reconciliation now (it also runs on its interval). */
  reconcileStores: publicProcedure.mutation(async ({ ctx }) =>
    ctx.services.liveness ? ctx.services.liveness.reconcile() : { repairs: [], checked: 0 },
  ),

  /** Node cards, live: the current view at once, then after every probe of the ensemble. */
  onStatus: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const { events, nodes, cluster } = ctx.services;
    const stream = events.stream('nodes', signal);
    let seq = 0;
    yield tracked(String(++seq), { nodes: await nodes.list(), summary: cluster.summary() });
    for await (const [stats] of stream) yield tracked(String(++seq), { nodes: nodes.merge(stats), summary: cluster.summary(stats) });
  }),

  /** Storage nodes with their lifecycle (joining, active, leaving, removed), usage, and decommission progress. */
  lifecycle: publicProcedure.query(({ ctx }) => ctx.services.storageNodes.list()),

  /** Graceful removal: leaving → drained under the migration caps → removed. */
  decommission: publicProcedure
    .input(ZDecommissionInputSchema)
    .mutation(({ ctx, input }) => ctx.services.storageNodes.decommission(input.node, input.reason)),
  cancelDecommission: publicProcedure
    .input(ZNodeInputSchema)
    .mutation(({ ctx, input }) => ctx.services.storageNodes.cancelDecommission(input.node)),
  /** Undoes a removal: the node joins again and is rebalanced toward. */
  reactivate: publicProcedure.input(ZNodeInputSchema).mutation(({ ctx, input }) => ctx.services.storageNodes.reactivate(input.node)),
  /** Scale-up: registers a storage node (folder and agent), joining → active, then rebalances toward it. */
  addStorageNode: publicProcedure.input(ZStorageNodeAddInputSchema).mutation(({ ctx, input }) => ctx.services.storageNodes.add(input)),

  /** Lifecycle views, live: now, then on every change (and every second while a decommission runs). */
  onLifecycle: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const stream = ctx.services.events.stream('lifecycle', signal);
    let seq = 0;
    yield tracked(String(++seq), ctx.services.storageNodes.list());
    for await (const [views] of stream) yield tracked(String(++seq), views);
  }),

  /** Leader changes, nodes going down or up, quorum lost or back. */
  onEvent: publicProcedure.subscription(async function* ({ ctx, signal }) {
    let seq = 0;
    for await (const [event] of ctx.services.events.stream('cluster', signal)) yield tracked(String(++seq), event);
  }),
});
