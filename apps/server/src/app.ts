import { existsSync, readFileSync } from 'node:fs';

import fastifyStatic from '@fastify/static';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ZodError } from 'zod';

import { appRouter, createContextInner, describeZodError, RateLimitedError, type AppRouter } from '@zkha/api';
import { HTTP_STATUS_BY_CODE, isAppError } from '@zkha/core';
import type { Services } from '@zkha/services';

import { Authenticator, OPEN_LOCAL_SETTINGS, type AuthSettings } from './auth.ts';
import { registerAuth } from './auth-http.ts';
import { registerForwarding } from './forward.ts';
import { registerOpenApi } from './openapi.ts';
import { registerRest } from './rest.ts';
import { registerGeneratedRest } from './rest-generated.ts';

const SERVER_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface AppOptions {
  services: Services;
  /** Built SPA (apps/web/dist); served at /ui/ when present. */
  webDir?: string;
  logger?: boolean | object;
  /** A ready pino logger (the server's file + stdout log); wins over `logger`. */
  loggerInstance?: FastifyBaseLogger;
  bodyLimit?: number;
  /** Tokens, read-only mode, rate limits; without it the server is open to loopback callers, as before auth. */
  auth?: AuthSettings;
}

/** The API's code for a client error Fastify raised itself, by its status. */
function apiCodeOf(status: number): string {
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 404) return 'NOT_FOUND';
  return 'BAD_INPUT';
}

/** One shape for every REST error: `{ error: { code, message, details? } }`. */
function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details !== undefined ? { details } : {}) } };
}

/** The HTTP surface: tRPC at /trpc, REST at /api, /metrics, /healthz, and the SPA at /ui/. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services } = opts;
  const app = createFastify(opts);
  setErrorHandlers(app);
  addRequestMetrics(app, services);
  // Before anything else: on a follower, a mutation goes to the leader as it came (the leader authenticates it).
  if (services.control) registerForwarding(app, services.control);
  // First, so its hooks cover every route below: identity, CSRF/Origin, REST guard, actor scope, headers.
  registerAuth(app, { authenticator: new Authenticator(services.db, opts.auth ?? OPEN_LOCAL_SETTINGS) });

  // Before any route, so each route that describes itself is in the document.
  await registerOpenApi(app, SERVER_VERSION);

  await registerTrpc(app, services);
  await registerRest(app, services);
  // After the seed's routes, which keep their paths where a generated route would take the same one.
  registerGeneratedRest(app, services);
  registerProbeRoutes(app, services);
  await registerConsole(app, opts.webDir);
  return app;
}

function createFastify(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: opts.logger ?? false }),
    // Per-request lines would drown the operations log; errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // The upload route streams; everything else is small JSON.
    routerOptions: { maxParamLength: 200 },
    // Live subscriptions (SSE) never end by themselves: close them on shutdown instead of waiting forever.
    forceCloseConnections: true,
  });

  // Raw bodies reach the upload route as a stream, so uploads are never buffered in memory.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  return app;
}

/** Every error and unknown route answers in the one envelope, with the API's codes. */
function setErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    if (isAppError(err)) {
      const status = HTTP_STATUS_BY_CODE[err.code];
      if (status >= 500) req.log.error({ err }, 'request failed');
      return reply.status(status).send(errorBody(err.code, err.message, err.details));
    }
    if (err instanceof ZodError) {
      return reply.status(400).send(errorBody('BAD_INPUT', describeZodError(err), err.issues));
    }
    // Fastify's own client errors (malformed JSON, body too large, wrong content type) carry a 4xx statusCode
    // and a code of Fastify's (FST_ERR_*): they answer in the API's codes, like every other error.
    const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
    const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
    if (status < 500) {
      const code = typeof e.code === 'string' ? e.code : '';
      return reply
        .status(status)
        .send(
          errorBody(
            code.startsWith('FST_') || code === '' ? apiCodeOf(status) : code,
            typeof e.message === 'string' ? e.message : 'bad request',
          ),
        );
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error: see the server log'));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
}

/**
 * Every request's duration by route pattern (bounded labels: never the URL), and REST's rate-limit refusals
 * (tRPC counts its own, in its middleware).
 */
function addRequestMetrics(app: FastifyInstance, services: Services): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    services.metrics.observeHttp(route, req.method, reply.statusCode, reply.elapsedTime / 1000);
    // Generated routes run the tRPC procedure, whose middleware counts its own refusals.
    if (reply.statusCode === 429 && !route.startsWith('/trpc') && !req.routeOptions.config.viaTrpc)
      services.metrics.recordRateLimited('rest');
  });
}

async function registerTrpc(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: ({ req }) => createContextInner({ services, auth: req.zkhaAuth.auth }),
      responseMeta({ errors }) {
        const limited = errors.find((e) => e.cause instanceof RateLimitedError)?.cause as RateLimitedError | undefined;
        return limited ? { headers: { 'retry-after': String(limited.retryAfterSec) } } : {};
      },
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') app.log.error({ err: error, path }, 'tRPC procedure failed');
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });
}

/** What Prometheus and load balancers call: /metrics and /healthz. */
function registerProbeRoutes(app: FastifyInstance, services: Services): void {
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', services.metrics.contentType);
    return services.metrics.text();
  });

  app.get('/healthz', async (_req, reply) => {
    const health = await services.health();
    return reply.status(health.status === 'ok' ? 200 : 503).send(health);
  });
}

/** The web console at /ui/ (the built SPA, or a page saying how to build it), and / sends there. */
async function registerConsole(app: FastifyInstance, webDir: string | undefined): Promise<void> {
  if (webDir && existsSync(webDir)) {
    await app.register(fastifyStatic, { root: webDir, prefix: '/ui/', index: ['index.html'], wildcard: false });
    // Client-side routes under /ui/ get the SPA shell.
    app.get('/ui/*', (_req, reply) => reply.sendFile('index.html'));
  } else {
    app.get('/ui/', async (_req, reply) =>
      reply
        .type('text/html')
        .send('<!doctype html><title>zkha</title><p>The web console is not built: run <code>npm run build</code>.</p>'),
    );
  }
  app.get('/', (_req, reply) => reply.redirect('/ui/'));
}
