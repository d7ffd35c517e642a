import { capacityRouter } from './routers/capacity.ts';
import { controlRouter } from './routers/control.ts';
import { znodesRouter } from './routers/znodes.ts';
import { ensembleRouter } from './routers/ensemble.ts';
import { filesRouter } from './routers/files.ts';
import { logsRouter } from './routers/logs.ts';
import { migrationsRouter } from './routers/migrations.ts';
import { nodesRouter } from './routers/nodes.ts';
import { schedulerRouter } from './routers/scheduler.ts';
import { workloadRouter } from './routers/workload.ts';
import { createCallerFactory, createTRPCRouter } from './trpc.ts';

export const appRouter = createTRPCRouter({
  files: filesRouter,
  scheduler: schedulerRouter,
  nodes: nodesRouter,
  workload: workloadRouter,
  logs: logsRouter,
  migrations: migrationsRouter,
  capacity: capacityRouter,
  ensemble: ensembleRouter,
  control: controlRouter,
  znodes: znodesRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
