/**
 * The seed design's REST endpoints, answering with the same fields so its documented curl commands work
 * as written. Each handler validates with the same zod schema as the tRPC procedure, then calls the same service.
 * The routes live with their domain (rest-<domain>.ts); this file registers them.
 */
import type { FastifyInstance } from 'fastify';

import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { registerFileRoutes } from './rest-files.ts';
import { registerLogRoutes } from './rest-logs.ts';
import { registerMigrationRoutes } from './rest-migrations.ts';
import { registerNodeRoutes } from './rest-nodes.ts';
import { registerSchedulerRoutes } from './rest-scheduler.ts';
import { registerWorkloadRoutes } from './rest-workload.ts';
import { registerZnodeRoutes } from './rest-znodes.ts';

export { camelKeys } from './rest-input.ts';

/** The nodes, the cluster, the scheduler and the totals, in one answer. */
function registerOverviewRoute(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/overview',
    { schema: doc({ tag: 'overview', summary: 'Nodes, cluster summary, scheduler settings and plan, totals' }) },
    async () => {
      const nodes = await services.nodes.list();
      const summary = services.cluster.summary();
      const plan = services.scheduler.diagnostics();
      return {
        nodes,
        cluster: summary,
        scheduler: { ...services.scheduler.getConfig(), plan },
        totals: { files: plan.totalFiles, tasks: services.workload.taskCounts() },
      };
    },
  );
}

export async function registerRest(app: FastifyInstance, services: Services): Promise<void> {
  registerSchedulerRoutes(app, services);
  registerWorkloadRoutes(app, services);
  registerNodeRoutes(app, services);
  registerZnodeRoutes(app, services);
  registerOverviewRoute(app, services);
  registerFileRoutes(app, services);
  registerLogRoutes(app, services);
  registerMigrationRoutes(app, services);
}
