/** The znode explorer over REST (the same inputs as tRPC's znodes.*): ?path= for reads, a JSON body for writes. */
import type { FastifyInstance } from 'fastify';

import {
  ZZnodeCreateInputSchema,
  ZZnodeImportInputSchema,
  ZZnodePathInputSchema,
  ZZnodeRemoveInputSchema,
  ZZnodeSetAclInputSchema,
  ZZnodeSetInputSchema,
} from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { requireObject } from './rest-input.ts';

const PathQuery = ZZnodePathInputSchema;

export function registerZnodeRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/znodes/children',
    { schema: doc({ tag: 'znodes', summary: "A znode's children with their child counts", querystring: PathQuery }) },
    async (req) => services.znodes.children(ZZnodePathInputSchema.parse(req.query ?? {}).path),
  );
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/znodes',
    { schema: doc({ tag: 'znodes', summary: 'A znode: data (text, JSON, base64), stat, ACL', querystring: PathQuery }) },
    async (req) => services.znodes.get(ZZnodePathInputSchema.parse(req.query ?? {}).path),
  );
  app.put(
    '/api/znodes',
    {
      schema: doc({
        tag: 'znodes',
        summary: "Sets a znode's data at the version it was read at (a conflict answers 409 with the newer data)",
        body: ZZnodeSetInputSchema,
      }),
    },
    async (req) => services.znodes.set(ZZnodeSetInputSchema.parse(requireObject(req.body))),
  );
  app.post(
    '/api/znodes',
    { schema: doc({ tag: 'znodes', summary: 'Creates a znode (persistent, sequential, ephemeral-free)', body: ZZnodeCreateInputSchema }) },
    async (req) => services.znodes.create(ZZnodeCreateInputSchema.parse(requireObject(req.body))),
  );
  app.delete(
    '/api/znodes',
    {
      schema: doc({
        tag: 'znodes',
        summary: 'Deletes a znode; recursive deletes count first and need confirm',
        body: ZZnodeRemoveInputSchema,
      }),
    },
    async (req) => services.znodes.remove(ZZnodeRemoveInputSchema.parse(requireObject(req.body))),
  );
  app.put(
    '/api/znodes/acl',
    { schema: doc({ tag: 'znodes', summary: "Sets a znode's ACL (world, digest, ip schemes)", body: ZZnodeSetAclInputSchema }) },
    async (req) => services.znodes.setAcl(ZZnodeSetAclInputSchema.parse(requireObject(req.body))),
  );
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/znodes/export',
    { schema: doc({ tag: 'znodes', summary: 'A subtree as JSON', querystring: PathQuery }) },
    async (req) => services.znodes.exportTree(ZZnodePathInputSchema.parse(req.query ?? {}).path),
  );
  app.post(
    '/api/znodes/import',
    {
      schema: doc({
        tag: 'znodes',
        summary: 'Imports an exported subtree (dryRun lists what would change)',
        body: ZZnodeImportInputSchema,
      }),
    },
    async (req) => services.znodes.importTree(ZZnodeImportInputSchema.parse(requireObject(req.body))),
  );
}
