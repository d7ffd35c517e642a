/**
 * The whole tRPC API over REST, generated from the router itself: each query is `GET /api/<router>/<procedure>`
 * (input in the query string), each mutation `POST /api/<router>/<procedure>` (input as a JSON body), with the
 * procedure's name in kebab-case and its fields in camelCase, exactly as tRPC takes them. The route calls the
 * procedure, so it runs the same zod schema, access check, rate limit, timing and audit as the tRPC call; the
 * route's JSON schema (for the OpenAPI document) is produced from that zod schema by zod itself.
 *
 * Where a seed route already answers at the same method and path (`GET /api/scheduler/diagnostics`,
 * `POST /api/files/bulk-generate`, ...), the seed's route stays: it takes the same input and the seed's snake_case too.
 * Subscriptions have no REST twin (they are streams: tRPC over SSE serves them), nor does `files.upload`, which
 * takes no input (the upload is the streaming `POST /api/files/upload`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { ZodError, type ZodType } from 'zod';

import { appRouter, createCaller, createContextInner, RateLimitedError } from '@zkha/api';
import { isAppError } from '@zkha/core';
import type { Services } from '@zkha/services';

import { inputJsonSchema, type JsonSchema } from './openapi.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route calls a tRPC procedure (whose middleware measures and counts it). */
    viaTrpc?: boolean;
  }
}

export interface GeneratedRoute {
  method: 'GET' | 'POST';
  url: string;
  /** The tRPC path, `migrations.addTask`: also the OpenAPI operationId. */
  procedure: string;
  type: 'query' | 'mutation';
  /** The procedure's input schema, or undefined when it takes none. */
  input: ZodType | undefined;
}

/** Procedures with no REST twin, and why (the others all get one). */
export const NOT_OVER_REST: Readonly<Record<string, string>> = {
  'files.upload': 'the upload is a raw stream: POST /api/files/upload',
};

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

interface ProcedureDef {
  _def: { type: 'query' | 'mutation' | 'subscription'; inputs: unknown[] };
}

/** Every query and mutation of the router, as the REST route it gets. */
export function generatedRoutes(): GeneratedRoute[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;
  const routes: GeneratedRoute[] = [];
  for (const [path, proc] of Object.entries(procedures)) {
    const { type, inputs } = proc._def;
    if (type === 'subscription' || path in NOT_OVER_REST) continue;
    if (inputs.length > 1) throw new Error(`${path}: a procedure with chained inputs has no generated REST route`);
    const segments = path.split('.').map(kebab);
    routes.push({
      method: type === 'query' ? 'GET' : 'POST',
      url: `/api/${segments.join('/')}`,
      procedure: path,
      type,
      input: inputs[0] as ZodType | undefined,
    });
  }
  return routes;
}

function typesOf(schema: JsonSchema | undefined): Set<string> {
  const out = new Set<string>();
  if (!schema) return out;
  if (typeof schema.type === 'string') out.add(schema.type);
  if (Array.isArray(schema.type)) for (const t of schema.type) out.add(t);
  if (schema.const !== undefined) out.add(typeof schema.const);
  if (Array.isArray(schema.enum)) for (const v of schema.enum) out.add(v === null ? 'null' : typeof v);
  for (const member of schema.anyOf ?? []) for (const t of typesOf(member)) out.add(t);
  return out;
}

/** One query-string value as the schema wants it; what cannot be read is left as it came, for zod to refuse. */
function coerceScalar(value: string, schema: JsonSchema | undefined): unknown {
  const types = typesOf(schema);
  if (types.has('string')) return value;
  if ((types.has('integer') || types.has('number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (types.has('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  if (types.has('null') && value === 'null') return null;
  if (types.has('object')) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

/**
 * A query string read by the input's schema: numbers and booleans from their text, a repeated key (or one
 * value) as an array, an object field as JSON. Zod then validates the result like any tRPC input.
 */
export function coerceQuery(query: Record<string, string | string[] | undefined>, schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    const prop = schema.properties?.[key];
    const wantsArray = typesOf(prop).has('array');
    const itemSchema = prop?.items ?? prop?.anyOf?.find((m) => m.type === 'array')?.items;
    if (wantsArray) out[key] = (Array.isArray(raw) ? raw : [raw]).map((v) => coerceScalar(v, itemSchema));
    else out[key] = Array.isArray(raw) ? raw.map((v) => coerceScalar(v, prop)) : coerceScalar(raw, prop);
  }
  return out;
}

/** A tRPC error as the REST envelope's error: the domain's own code when there is one. */
class RestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const REST_CODE_BY_TRPC_CODE: Partial<Record<TRPCError['code'], string>> = {
  BAD_REQUEST: 'BAD_INPUT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
};

function restErrorOf(err: unknown, req: FastifyRequest, retryAfter: (sec: number) => void): unknown {
  if (!(err instanceof TRPCError)) return err;
  const cause = err.cause;
  if (isAppError(cause) || cause instanceof ZodError) return cause;
  if (cause instanceof RateLimitedError) retryAfter(cause.retryAfterSec);
  const status = getHTTPStatusCodeFromError(err);
  if (status >= 500) req.log.error({ err }, 'REST procedure failed');
  return new RestError(
    status,
    REST_CODE_BY_TRPC_CODE[err.code] ?? (status >= 500 ? 'INTERNAL' : err.code),
    status >= 500 ? 'internal error: see the server log' : err.message,
  );
}

export interface RouteDoc {
  operationId: string;
  summary: string;
  tags: string[];
  querystring?: JsonSchema;
  body?: JsonSchema;
}

/** What the OpenAPI document says of a generated route. */
export function routeDoc(route: GeneratedRoute): RouteDoc {
  const [tag] = route.procedure.split('.');
  const doc: RouteDoc = { operationId: route.procedure, summary: `${route.procedure} (tRPC ${route.type})`, tags: [tag!] };
  if (route.input) doc[route.method === 'GET' ? 'querystring' : 'body'] = inputJsonSchema(route.input);
  return doc;
}

/** Registers every generated route not already served by a seed route; returns the ones registered. */
export function registerGeneratedRest(app: FastifyInstance, services: Services): GeneratedRoute[] {
  const registered: GeneratedRoute[] = [];
  for (const route of generatedRoutes()) {
    if (app.hasRoute({ method: route.method, url: route.url })) continue;
    const doc = routeDoc(route);
    const querySchema = doc.querystring;
    app.route({
      method: route.method,
      url: route.url,
      config: { viaTrpc: true },
      schema: { ...doc, response: { 200: { description: `What the tRPC ${route.type} ${route.procedure} answers` } } },
      handler: async (req, reply) => {
        let input: unknown;
        if (route.input) {
          if (route.method === 'GET') input = coerceQuery((req.query ?? {}) as Record<string, string | string[]>, querySchema ?? {});
          else input = req.body ?? {};
        }
        const caller = createCaller(createContextInner({ services, auth: req.zkhaAuth.auth }));
        const [ns, name] = route.procedure.split('.') as [string, string];
        const fn = (caller as unknown as Record<string, Record<string, (i: unknown) => Promise<unknown>>>)[ns]![name]!;
        try {
          return await fn(input);
        } catch (err) {
          throw restErrorOf(err, req, (sec) => void reply.header('retry-after', String(sec)));
        }
      },
    });
    registered.push(route);
  }
  return registered;
}
