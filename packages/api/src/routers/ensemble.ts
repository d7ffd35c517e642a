import { on } from 'node:events';

import { tracked } from '@trpc/server';

import {
  ZEnsembleAddServerInputSchema,
  ZEnsembleLoadHistoryInputSchema,
  ZEnsemblePlanChangeInputSchema,
  ZEnsembleRemoveServerInputSchema,
  ZEnsembleRollingRestartInputSchema,
  ZScalingPolicySchema,
} from '@zkha/core/schemas';
import type { EnsembleLoadView, EnsembleMembership, RollingRestartJob } from '@zkha/services';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

/**
 * The ZooKeeper ensemble: load, membership and its changes, rolling restart, scaling policy. Membership
 * changes run on the embedded default only (NOT_IMPLEMENTED elsewhere, with the reason); one change or
 * restart at a time (CONFLICT for a second one).
 */
export const ensembleRouter = createTRPCRouter({
  /** Latest load per server (sample + score breakdown) and for the ensemble, with the score's formula and weights. */
  load: publicProcedure.query(({ ctx }) => ctx.services.ensemble.load()),

  /** Samples kept for the charts (oldest first): per server and the ensemble's score. */
  loadHistory: publicProcedure.input(ZEnsembleLoadHistoryInputSchema).query(({ ctx, input }) => ctx.services.ensemble.loadHistory(input)),

  /** Voters, observers, config version, each server's own view, divergent servers, leader, quorum. */
  membership: publicProcedure.query(({ ctx }) => ctx.services.ensemble.membership()),

  /** What adding or removing a server would do: the guards' verdict with the quorum before and after. Touches nothing. */
  planChange: publicProcedure.input(ZEnsemblePlanChangeInputSchema).query(({ ctx, input }) => ctx.services.ensemble.planChange(input)),

  /** Starts a new server and `reconfig -add`s it (embedded default). An even number of voters after it needs `confirm`. */
  addServer: publicProcedure.input(ZEnsembleAddServerInputSchema).mutation(({ ctx, input }) => ctx.services.ensemble.addServer(input)),

  /** `reconfig -remove`s a server and stops it (embedded default). An even number of voters after it needs `confirm`. */
  removeServer: publicProcedure
    .input(ZEnsembleRemoveServerInputSchema)
    .mutation(({ ctx, input }) => ctx.services.ensemble.removeServer(input)),

  /** Dry run by default: the order (observers, followers, leader last) and why. With dryRun false, starts the job. */
  /** The rolling restart's dry run as a query: viewers and read-only servers can see the plan too. */
  rollingRestartPlan: publicProcedure.query(async ({ ctx }) => (await ctx.services.ensemble.rollingRestart({ dryRun: true })).plan),

  rollingRestart: publicProcedure
    .input(ZEnsembleRollingRestartInputSchema)
    .mutation(({ ctx, input }) => ctx.services.ensemble.rollingRestart(input)),

  /** The current or last rolling restart job (null when none ran since start). */
  rollingRestartStatus: publicProcedure.query(({ ctx }) => ctx.services.ensemble.rollingRestartStatus()),

  /** Scale up/down recommendation from the load history, with the figures behind it, and the policy. */
  recommendations: publicProcedure.query(({ ctx }) => ctx.services.ensemble.recommendations()),

  policy: publicProcedure.query(({ ctx }) => ctx.services.ensemble.policy()),

  /** Replaces the scaling policy (recorded as an operation); `auto` turns the automatic mode on. */
  setPolicy: publicProcedure.input(ZScalingPolicySchema).mutation(({ ctx, input }) => ctx.services.ensemble.setPolicy(input)),

  /** The load view at every probe. */
  onLoad: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const stream = on(ctx.services.load, 'load', { signal }) as AsyncIterableIterator<[EnsembleLoadView]>;
    let seq = 0;
    yield tracked(String(++seq), ctx.services.ensemble.load());
    for await (const [view] of stream) yield tracked(String(++seq), view);
  }),

  /** The membership now, then at every change (made here or elsewhere). */
  onMembership: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const stream = on(ctx.services.ensemble, 'membership', { signal }) as AsyncIterableIterator<[EnsembleMembership]>;
    let seq = 0;
    yield tracked(String(++seq), await ctx.services.ensemble.membership());
    for await (const [m] of stream) yield tracked(String(++seq), m);
  }),

  /** The current job (or null), then every step's progress. */
  onRollingRestart: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const stream = on(ctx.services.ensemble, 'rollingRestart', { signal }) as AsyncIterableIterator<[RollingRestartJob]>;
    let seq = 0;
    yield tracked(String(++seq), ctx.services.ensemble.rollingRestartStatus());
    for await (const [job] of stream) yield tracked(String(++seq), job as RollingRestartJob | null);
  }),
});
