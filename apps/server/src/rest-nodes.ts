/** The REST routes about the ensemble's servers and who is up: drains, server control, four-letter words, presence. */
import type { FastifyInstance } from 'fastify';

import { NODE_ACTIONS } from '@zkha/core';
import { ZDrainInputSchema, ZFourLetterInputSchema, ZNodeActionInputSchema, ZNodeInputSchema } from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { requireObject } from './rest-input.ts';

const NodeParams = ZNodeInputSchema;

/** The seed's node routes: drain and undrain, the list, and one route per server action (stop, start...). */
function registerNodeActionRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Params: { node: string } }>(
    '/api/nodes/:node/drain',
    {
      schema: doc({
        tag: 'nodes',
        summary: 'Drains a node: the scheduler moves nothing onto it',
        params: NodeParams,
        body: ZDrainInputSchema.omit({ node: true }),
      }),
    },
    async (req) => {
      const body = requireObject(req.body);
      const input = ZDrainInputSchema.parse({ node: req.params.node, ...(body.reason !== undefined ? { reason: body.reason } : {}) });
      const state = services.nodes.drain(input.node, input.reason);
      return { node: state.node, drained: state.drained, reason: state.reason, updated_at: state.updatedAt };
    },
  );

  app.post<{ Params: { node: string } }>(
    '/api/nodes/:node/undrain',
    { schema: doc({ tag: 'nodes', summary: 'Ends a drain', params: NodeParams }) },
    async (req) => {
      const input = ZNodeInputSchema.parse({ node: req.params.node });
      const state = services.nodes.undrain(input.node);
      return { node: state.node, drained: state.drained, reason: state.reason, updated_at: state.updatedAt };
    },
  );

  app.get('/api/nodes', { schema: doc({ tag: 'nodes', summary: 'Every node with its figures, files and state' }) }, async () =>
    services.nodes.list(),
  );

  for (const action of NODE_ACTIONS) {
    app.post<{ Params: { node: string } }>(
      `/api/nodes/:node/${action}`,
      {
        schema: doc({
          tag: 'nodes',
          summary: `${action[0]!.toUpperCase()}${action.slice(1)}s a ZooKeeper server (through Docker or its local process)`,
          params: NodeParams,
        }),
      },
      async (req) => {
        const input = ZNodeActionInputSchema.parse({ node: req.params.node, action });
        return services.nodes.control(input.node, input.action);
      },
    );
  }
}

/** Who is up: the storage agents and the zkha instances. */
function registerPresenceRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/stores',
    { schema: doc({ tag: 'nodes', summary: 'The storage agents as their ephemeral znodes say' }) },
    async () => services.liveness?.list() ?? [],
  );

  // The zkha instances on this ensemble, which one leads, and the last takeovers (any instance answers).
  app.get(
    '/api/control',
    { schema: doc({ tag: 'control', summary: 'The zkha instances on this ensemble, the leader, the last takeovers' }) },
    async () => services.controlStatus(),
  );
}

function registerFourLetterRoute(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { node: string; command: string } }>(
    '/api/nodes/:node/4lw/:command',
    {
      schema: doc({
        tag: 'nodes',
        summary: "A four-letter word's answer from one server (read-only words only)",
        params: ZFourLetterInputSchema,
      }),
    },
    async (req) => {
      const input = ZFourLetterInputSchema.parse({ node: req.params.node, command: req.params.command });
      return services.cluster.fourLetter(input.node, input.command);
    },
  );
}

/** The storage nodes (drain, undrain, list, server actions), the presence of stores and instances, four-letter words. */
export function registerNodeRoutes(app: FastifyInstance, services: Services): void {
  registerNodeActionRoutes(app, services);
  registerPresenceRoutes(app, services);
  registerFourLetterRoute(app, services);
}
