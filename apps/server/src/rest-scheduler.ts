/** The seed's scheduler routes: diagnostics, a round on demand, the settings. */
import type { FastifyInstance } from 'fastify';

import { ZSchedulerRunInputSchema } from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { camelKeys, numericQuery, requireObject } from './rest-input.ts';

export function registerSchedulerRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/scheduler/diagnostics',
    {
      schema: doc({
        tag: 'scheduler',
        summary: "The seed's scheduler diagnostics: counts per node, source, target, candidate, delta, threshold, reason, message",
      }),
    },
    async () => services.scheduler.diagnostics(),
  );

  // The seed's call takes no body; `{"wait_ms": 0}` (or `?waitMs=0`) returns as soon as the round is queued.
  app.post<{ Querystring: Record<string, unknown> }>(
    '/api/scheduler/run',
    {
      schema: doc({
        tag: 'scheduler',
        summary: "Runs a scheduler round now (the seed's call; waitMs=0 returns once queued)",
        querystring: ZSchedulerRunInputSchema,
        body: ZSchedulerRunInputSchema,
      }),
    },
    async (req) => {
      const query = camelKeys(req.query ?? {}) as Record<string, unknown>;
      const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
      const input = ZSchedulerRunInputSchema.parse({
        ...(query.waitMs !== undefined ? { waitMs: numericQuery(query.waitMs) } : {}),
        ...body,
      });
      return services.scheduler.run('manual', input);
    },
  );

  app.get('/api/scheduler/config', { schema: doc({ tag: 'scheduler', summary: 'The scheduler settings' }) }, async () =>
    services.scheduler.getConfig(),
  );
}
