/**
 * The API's description: `GET /api/openapi.json` (OpenAPI 3.1, built by @fastify/swagger from the routes' own
 * schemas) and `/api/docs` (Swagger UI, its assets served from the swagger-ui-dist package: nothing from a CDN).
 *
 * Why @fastify/swagger over trpc-to-openapi: the routes stay Fastify routes behind the same hooks as the rest of
 * /api (auth guard, forwarding to the leader, per-route metrics) and answer errors in the API's one envelope;
 * trpc-to-openapi answers in its own error shape, needs an output parser on every procedure, and turns on zod's
 * `coerce` inside the shared schemas it serves (so tRPC's own inputs would start coercing too).
 *
 * Route schemas are for the document only: zod validates every input (in the procedure, or the seed route's
 * handler), so Fastify's own validator and response serializer are switched off rather than run a second,
 * differently-worded check.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z, type ZodType } from 'zod';

export type JsonSchema = Record<string, unknown> & {
  type?: string | string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
};

/** The input's JSON Schema as a client sends it (defaults optional), for the document and for query coercion. */
export function inputJsonSchema(input: ZodType): JsonSchema {
  const { $schema: _, ...schema } = z.toJSONSchema(input, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return schema;
}

export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';

const ERROR_ENVELOPE = {
  type: 'object' as const,
  description: 'Every error: a code (BAD_INPUT, NODE_NOT_FOUND, CONFLICT, RATE_LIMITED, ...) and a sentence',
  properties: {
    error: {
      type: 'object' as const,
      properties: { code: { type: 'string' as const }, message: { type: 'string' as const }, details: {} },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'zkha',
        version,
        description:
          'The control plane of a ZooKeeper ensemble and the files on its storage nodes. Every tRPC query is GET /api/{router}/{procedure} ' +
          '(input in the query string: a repeated key for a list, JSON for an object), every mutation POST with a JSON body; fields are camelCase. ' +
          "The seed's routes keep their paths and also take the seed's snake_case fields. Mutations sent to a follower instance are forwarded to the leader.",
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token (zkha token create); not needed when the server has no tokens and is called on loopback',
          },
        },
        schemas: { Error: ERROR_ENVELOPE },
      },
      security: [{ bearer: [] }, {}],
    },
    // Only routes that describe themselves are documented: /trpc, /ui and the login routes are not part of this API.
    transform: ({ schema, url }) => ({
      schema: schema ? { ...schema, response: { ...(schema.response as object), default: ERROR_ENVELOPE } } : { hide: true },
      url,
    }),
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    uiConfig: { docExpansion: 'list', deepLinking: true },
    // Served at /api/openapi.json as well, where scripts look first.
    staticCSP: false,
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}

export interface RouteDescription {
  summary: string;
  tag: string;
  /** Path parameters, query string and JSON body, as the zod schemas the handler parses them with. */
  params?: ZodType;
  querystring?: ZodType;
  body?: ZodType;
  /** A body that is not JSON (the upload's raw bytes). */
  rawBody?: string;
  /** An answer that is not JSON (a file's bytes). */
  rawAnswer?: string;
}

/** The document's view of a hand-written route (the seed's and the explorer's), from the zod schemas it parses with. */
export function describeRoute(d: RouteDescription): FastifySchema {
  const schema: Record<string, unknown> = { summary: d.summary, tags: [d.tag] };
  if (d.params) schema.params = inputJsonSchema(d.params);
  if (d.querystring) schema.querystring = inputJsonSchema(d.querystring);
  if (d.body) schema.body = inputJsonSchema(d.body);
  if (d.rawBody) {
    schema.consumes = [d.rawBody];
    schema.body = { type: 'string', format: 'binary' };
  }
  schema.response = d.rawAnswer
    ? { 200: { description: 'The bytes', content: { [d.rawAnswer]: { schema: { type: 'string', format: 'binary' } } } } }
    : { 200: { description: 'The answer' } };
  return schema;
}
