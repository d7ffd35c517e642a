/** The seed's routes over what happened: the audit of operations and the log search. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { ZLogSearchInputSchema, ZOperationsListInputSchema } from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { numericQuery } from './rest-input.ts';

const LogSearchQuery = z.object({
  q: z.string().optional(),
  level: z.string().optional(),
  source: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  limit: z.number().int().optional(),
  cursor: z.string().optional(),
});

function registerOperationsRoute(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/operations',
    { schema: doc({ tag: 'logs', summary: 'The audit of operations, newest first', querystring: ZOperationsListInputSchema }) },
    async (req) => {
      const q = Object.fromEntries(
        Object.entries((req.query ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          k === 'limit' || k === 'cursor' ? numericQuery(v) : v,
        ]),
      );
      return services.operations.list(ZOperationsListInputSchema.parse(q));
    },
  );
}

function registerLogSearchRoute(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/logs/search',
    { schema: doc({ tag: 'logs', summary: 'Searches the logs (q: text, source: a comma-separated list)', querystring: LogSearchQuery }) },
    async (req) => {
      const q = (req.query ?? {}) as Record<string, unknown>;

      const input = ZLogSearchInputSchema.parse({
        ...(typeof q.q === 'string' ? { text: q.q } : {}),
        ...(typeof q.level === 'string' ? { level: q.level } : {}),
        ...(typeof q.source === 'string' ? { sources: q.source.split(',') } : {}),
        ...(typeof q.from === 'string' ? { from: q.from } : {}),
        ...(typeof q.to === 'string' ? { to: q.to } : {}),
        ...(q.limit !== undefined ? { limit: numericQuery(q.limit) } : {}),
        ...(typeof q.cursor === 'string' ? { cursor: q.cursor } : {}),
      });
      return services.logs.search(input);
    },
  );
}

/** The operations log and the log search. */
export function registerLogRoutes(app: FastifyInstance, services: Services): void {
  registerOperationsRoute(app, services);
  registerLogSearchRoute(app, services);
}
