import { tracked } from '@trpc/server';
import { z } from 'zod';

import {
  ZMigrationCapsPatchSchema,
  ZMigrationIdSchema,
  ZMigrationPlanInputSchema,
  ZMigrationTaskAddInputSchema,
  ZMigrationTaskUpdateInputSchema,
} from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

export const migrationsRouter = createTRPCRouter({
  /** The queue: open tasks with progress and ETA, totals, caps, policy, and why waiting tasks wait. */
  progress: publicProcedure.query(({ ctx }) => ctx.services.engine.progress()),

  /**
   * The seed's get_migration_status: tasks by status over the whole journal, bytes-based progress, and the
   * bandwidth each node uses for migrations now (in, out, cap).
   */
  status: publicProcedure.query(({ ctx }) => ctx.services.migrationTasks.status()),

  list: publicProcedure
    .input(
      z
        .object({
          status: z.enum(['pending', 'running', 'completed', 'failed', 'cancelled', 'paused']).optional(),
          limit: z.number().int().min(1).max(500).default(100),
        })
        .strict(),
    )
    .query(({ ctx, input }) => ctx.services.engine.list(input)),

  /** Dry run: the whole plan for a strategy, nothing moves. */
  plan: publicProcedure
    .input(ZMigrationPlanInputSchema.pick({ strategy: true }))
    .query(({ ctx, input }) => ctx.services.scheduler.dryRun(input.strategy)),

  /** Plans the whole imbalance with a strategy and queues it. */
  enqueue: publicProcedure.input(ZMigrationPlanInputSchema).mutation(({ ctx, input }) => {
    const plan = ctx.services.scheduler.dryRun(input.strategy);
    const queued = ctx.services.engine.enqueue(plan.moves, { priority: input.priority, deadline: input.deadline ?? null });
    return { plan, queued: queued.length };
  }),

  /** The seed's add_migration_task: one move of one file from `source` to `target`, with a priority and a deadline. */
  addTask: publicProcedure.input(ZMigrationTaskAddInputSchema).mutation(({ ctx, input }) => ctx.services.migrationTasks.addTask(input)),

  /** A pending or paused task's priority or deadline (null clears it); the queue re-orders at once. */
  updateTask: publicProcedure
    .input(ZMigrationTaskUpdateInputSchema)
    .mutation(({ ctx, input }) => ctx.services.migrationTasks.updateTask(input)),

  pause: publicProcedure.input(ZMigrationIdSchema).mutation(({ ctx, input }) => {
    ctx.services.engine.pause(input.id);
    return ctx.services.engine.progress();
  }),
  resume: publicProcedure.input(ZMigrationIdSchema).mutation(({ ctx, input }) => {
    ctx.services.engine.resume(input.id);
    return ctx.services.engine.progress();
  }),
  /** Cancels one task, or every open task when no id is given. */
  cancel: publicProcedure.input(ZMigrationIdSchema).mutation(({ ctx, input }) => ({ cancelled: ctx.services.engine.cancel(input.id) })),

  caps: publicProcedure.query(({ ctx }) => ({
    caps: ctx.services.engine.getCaps(),
    policy: ctx.services.engine.getPolicy(),
    adaptive: ctx.services.engine.adaptiveEnabled,
  })),
  setCaps: publicProcedure.input(ZMigrationCapsPatchSchema).mutation(({ ctx, input }) => ctx.services.engine.setCaps(input)),
  setPolicy: publicProcedure
    .input(z.object({ policy: z.enum(['priority', 'deadline', 'importance']) }).strict())
    .mutation(({ ctx, input }) => ({ policy: ctx.services.engine.setPolicy(input.policy) })),

  /** Adaptive mode: caps follow the load (AIMD); every change is recorded with its cause. */
  setAdaptive: publicProcedure
    .input(z.object({ enabled: z.boolean() }).strict())
    .mutation(({ ctx, input }) => ctx.services.engine.setAdaptive(input.enabled)),

  /** Queue progress, live (at most ten updates a second). */
  onProgress: publicProcedure.subscription(async function* ({ ctx, signal }) {
    const stream = ctx.services.events.stream('migrations', signal);
    let seq = 0;
    yield tracked(String(++seq), ctx.services.engine.progress());
    for await (const [p] of stream) yield tracked(String(++seq), p);
  }),
});
