/** The seed's migration-task routes: add a task, change a queued one, the queue's status. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { ZMigrationTaskAddInputSchema, ZMigrationTaskPatchSchema, ZMigrationTaskUpdateInputSchema } from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { camelKeys, numericQuery, requireObject } from './rest-input.ts';

const TaskIdParams = z.object({ id: z.number().int().positive() });

export function registerMigrationRoutes(app: FastifyInstance, services: Services): void {
  // The seed's add_migration_task: `{"uuid", "source", "target", "priority"?, "deadline"?}`.
  app.post(
    '/api/migrations/tasks',
    { schema: doc({ tag: 'migrations', summary: "The seed's add_migration_task", body: ZMigrationTaskAddInputSchema }) },
    async (req) => services.migrationTasks.addTask(ZMigrationTaskAddInputSchema.parse(camelKeys(requireObject(req.body)))),
  );

  // A queued task's priority or deadline: `{"priority"?: 1-10, "deadline"?: ISO | null}`.
  app.patch<{ Params: { id: string } }>(
    '/api/migrations/tasks/:id',
    {
      schema: doc({
        tag: 'migrations',
        summary: "A queued task's priority or deadline",
        params: TaskIdParams,
        body: ZMigrationTaskPatchSchema,
      }),
    },
    async (req) => {
      const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
      return services.migrationTasks.updateTask(ZMigrationTaskUpdateInputSchema.parse({ ...body, id: numericQuery(req.params.id) }));
    },
  );

  // The seed's get_migration_status.
  app.get('/api/migrations/status', { schema: doc({ tag: 'migrations', summary: "The seed's get_migration_status" }) }, async () =>
    services.migrationTasks.status(),
  );
}
