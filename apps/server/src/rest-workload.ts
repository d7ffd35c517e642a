/** The seed's routes that create demo load: generated files and a stressed node. */
import type { FastifyInstance } from 'fastify';

import { ZBulkGenerateInputSchema, ZStressInputSchema } from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { camelKeys, requireObject } from './rest-input.ts';

export function registerWorkloadRoutes(app: FastifyInstance, services: Services): void {
  app.post(
    '/api/files/bulk-generate',
    {
      schema: doc({
        tag: 'files',
        summary: 'Generates demo files (the seed\'s call; placement "pin" is accepted for "pinned")',
        body: ZBulkGenerateInputSchema,
      }),
    },
    async (req) => {
      const raw = camelKeys(requireObject(req.body)) as Record<string, unknown>;
      // The seed's API says "pin" for a pinned node.
      if (raw.placement === 'pin') raw.placement = 'pinned';
      return services.workload.bulkGenerate(ZBulkGenerateInputSchema.parse(raw));
    },
  );

  app.post(
    '/api/demo/stress',
    { schema: doc({ tag: 'workload', summary: "Piles files on one node (the seed's stress call)", body: ZStressInputSchema }) },
    async (req) => services.workload.stress(ZStressInputSchema.parse(camelKeys(requireObject(req.body)))),
  );
}
