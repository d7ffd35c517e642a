/**
 * Access control over HTTP, once for every route: one request hook works out who is calling (Authenticator),
 * refuses browser forgeries, guards REST and /metrics by method (GET reads need a viewer, anything else an
 * operator), rate-limits the routes that create work, and opens the actor scope the operations log reads.
 * tRPC gets the same verdicts through its context (the middleware in @zkha/api decides by procedure type).
 * Also: the console's login/logout/me routes and the security headers on every answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { actorOf, checkAccess, LOCAL_IDENTITY, WorkLimiter, type AccessKind, type Identity, type RequestAuth } from '@zkha/api';
import { enterActorScope, type ActorScopeHandle } from '@zkha/services';

import { isLoopbackHost, sameSecret, type Authenticator, type SessionView } from './auth.ts';

export const SESSION_COOKIE = 'zkha_session';
export const CSRF_HEADER = 'x-csrf-token';

/** What the hook learnt about a request, for the tRPC context and the auth routes. */
export interface RequestAuthState {
  auth: RequestAuth;
  /** The console session the request came with, when it authenticated by cookie. */
  session: SessionView | null;
  cookieId: string | null;
  actorScope: ActorScopeHandle | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    zkhaAuth: RequestAuthState;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The REST routes that create work (files, load): each costs one unit of the caller's allowance, like their tRPC twins. */
const WORK_ROUTES = new Set(['POST /api/demo/stress', 'POST /api/files/bulk-generate', 'POST /api/files/upload']);

/**
 * No inline scripts (the built index.html has none; see apps/web/vite.config.ts), nothing framed, no plugins.
 * Styles allow 'unsafe-inline' because Mantine sets its theme variables and component styles at run time.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

function cookieValue(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v === '' ? null : v;
    }
  }
  return null;
}

function hostnameOf(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return null;
  }
}

function sessionCookie(req: FastifyRequest, value: string, maxAgeSec: number): string {
  // Secure whenever the request came over TLS; a plain-http loopback server could not set a Secure cookie.
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSec}${secure}`;
}

const ZLoginSchema = z
  .object({
    token: z.string().trim().min(1, 'enter a token').max(512, 'is too long to be a token'),
    name: z.string().trim().max(64).optional(),
  })
  .strict();

export interface RegisterAuthOptions {
  authenticator: Authenticator;
}

/** Hooks and routes for access control; register before any other route. */
export function registerAuth(app: FastifyInstance, { authenticator }: RegisterAuthOptions): void {
  const trusted = new Set(authenticator.settings.trustedOrigins);
  app.decorateRequest('zkhaAuth', null as unknown as RequestAuthState);
  registerAccessHook(app, authenticator, trusted);
  registerResponseHooks(app);
  registerSessionRoutes(app, authenticator, trusted);
}

/** Why an unsafe (non-GET) request must not act, or null. */
function forgeryOf(req: FastifyRequest, session: SessionView | null, trusted: ReadonlySet<string>): string | null {
  if (SAFE_METHODS.has(req.method)) return null;
  const origin = req.headers.origin;
  // Browsers send Origin with every cross-origin POST; scripts and the CLI send none, and need no check.
  if (origin !== undefined && origin !== `${req.protocol}://${req.headers.host ?? ''}` && !trusted.has(origin)) {
    return `cross-origin request refused: Origin ${origin} is not this server (list it in TRUSTED_ORIGINS if it should be allowed)`;
  }
  if (session) {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) {
      return `missing or wrong ${CSRF_HEADER} header: the console sends its session's CSRF token with every change (reload the page if this persists)`;
    }
  }
  return null;
}

function identify(
  authenticator: Authenticator,
  req: FastifyRequest,
  required: boolean,
): Omit<RequestAuthState, 'actorScope' | 'auth'> & { problem: string | null; identity: Identity | null } {
  const none = { session: null, cookieId: null };
  if (!required) return { ...none, identity: LOCAL_IDENTITY, problem: null };
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return { ...none, identity: null, problem: 'the Authorization header must be "Bearer <token>"' };
    const identity = authenticator.verifyToken(m[1]!);
    return { ...none, identity, problem: identity ? null : 'the bearer token is unknown or revoked' };
  }
  const cookieId = cookieValue(req, SESSION_COOKIE);
  if (cookieId) {
    const session = authenticator.session(cookieId);
    if (session) return { session, cookieId, identity: session.identity, problem: null };
    return { ...none, cookieId, identity: null, problem: 'the console session has expired or was ended: log in again' };
  }
  return { ...none, identity: null, problem: 'send Authorization: Bearer <token>, or log in to the console at /ui/' };
}

function deny(reply: FastifyReply, status: number, code: string, message: string): void {
  void reply.status(status).header('cache-control', 'no-store').send(errorBody(code, message));
}

/** The one request hook: who is calling, forgeries, the REST and /metrics guard, the work rate limit, the actor scope. */
function registerAccessHook(app: FastifyInstance, authenticator: Authenticator, trusted: ReadonlySet<string>): void {
  const settings = authenticator.settings;
  const limiter = settings.workPerMinute > 0 ? new WorkLimiter({ perMinute: settings.workPerMinute }) : null;

  // Callback style on purpose: the actor scope is opened around `done`, so the route handler runs inside it.
  app.addHook('onRequest', (req, reply, done) => {
    const required = authenticator.required();
    if (!required && !isLoopbackHost(hostnameOf(req.headers.host) ?? '')) {
      // With authentication off, only requests addressed to this machine by a loopback name are served: a web
      // page that rebinds its own hostname to 127.0.0.1 cannot use the open server through the visitor's browser.
      return deny(
        reply,
        403,
        'FORBIDDEN',
        `this server has no API tokens, so it only answers requests addressed to 127.0.0.1 or localhost (Host: ${req.headers.host ?? 'none'})`,
      );
    }
    const who = identify(authenticator, req, required);
    const auth: RequestAuth = {
      identity: who.identity,
      problem: who.problem,
      forgery: forgeryOf(req, who.session, trusted),
      readOnly: settings.readOnly,
      limiter,
    };
    req.zkhaAuth = { auth, session: who.session, cookieId: who.cookieId, actorScope: null };

    const route = req.routeOptions.url;
    const guarded = route !== undefined && ((route.startsWith('/api/') && !route.startsWith('/api/auth/')) || route === '/metrics');
    if (guarded) {
      const kind: AccessKind = SAFE_METHODS.has(req.method) ? 'query' : 'mutation';
      const denied = checkAccess(auth, kind);
      if (denied) return deny(reply, denied.status, denied.code, denied.message);
      if (limiter && WORK_ROUTES.has(`${req.method} ${route}`)) {
        const retryAfterSec = limiter.take(actorOf(auth.identity!));
        if (retryAfterSec > 0) {
          void reply.header('retry-after', String(retryAfterSec));
          return deny(reply, 429, 'RATE_LIMITED', `too many requests that create work: try again in ${retryAfterSec} s`);
        }
      }
    }
    // tRPC opens its own, per procedure (the middleware in @zkha/api), which closes when the procedure returns;
    // one held here would stay open as long as an SSE stream and lend its caller's name to whatever runs in it.
    if (!who.identity || !guarded) return done();
    req.zkhaAuth.actorScope = enterActorScope(actorOf(who.identity), done);
  });
}

/** On every answer: close the request's actor scope, add the security headers. */
function registerResponseHooks(app: FastifyInstance): void {
  app.addHook('onResponse', (req, _reply, done) => {
    req.zkhaAuth?.actorScope?.close();
    done();
  });

  app.addHook('onSend', (_req, reply, payload, done) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    done(null, payload);
  });
}

function me(authenticator: Authenticator, state: RequestAuthState) {
  const identity = state.auth.identity!;
  return {
    authRequired: authenticator.required(),
    kind: identity.kind,
    name: identity.name,
    actor: actorOf(identity),
    role: identity.role,
    readOnly: authenticator.settings.readOnly,
    // Only a cookie session needs it: the console echoes it in the x-csrf-token header of every change.
    csrfToken: state.session?.csrfToken ?? null,
    expiresAt: state.session?.expiresAt ?? null,
  };
}

/** The console's session routes: who am I, log in with a token (sets the session cookie), log out. */
function registerSessionRoutes(app: FastifyInstance, authenticator: Authenticator, trusted: ReadonlySet<string>): void {
  const settings = authenticator.settings;
  // Guessing a 256-bit token is hopeless, but a login form still should not answer a script at full speed.
  const loginLimiter = new WorkLimiter({ perMinute: 20 });

  app.get('/api/auth/me', async (req, reply) => {
    void reply.header('cache-control', 'no-store');
    const state = req.zkhaAuth;
    if (!state.auth.identity)
      return reply.status(401).send(errorBody('UNAUTHORIZED', `authentication required: ${state.auth.problem ?? 'log in'}`));
    return me(authenticator, state);
  });

  app.post('/api/auth/login', async (req, reply) => {
    void reply.header('cache-control', 'no-store');
    if (!authenticator.required()) {
      return reply
        .status(400)
        .send(errorBody('BAD_INPUT', 'authentication is off on this server (no API tokens, loopback only): there is nothing to log in to'));
    }
    const forgery = forgeryOf(req, null, trusted);
    if (forgery) return reply.status(403).send(errorBody('FORBIDDEN', forgery));
    const wait = loginLimiter.take(req.ip);
    if (wait > 0)
      return reply
        .status(429)
        .header('retry-after', String(wait))
        .send(errorBody('RATE_LIMITED', `too many login attempts: try again in ${wait} s`));
    const input = ZLoginSchema.parse(req.body ?? {});
    const token = authenticator.verifyToken(input.token);
    if (!token || (input.name && input.name !== token.name)) {
      return reply.status(401).send(errorBody('UNAUTHORIZED', 'wrong token: no active API token matches what was entered'));
    }
    const { cookieId, session } = authenticator.openSession(token);
    const maxAge = Math.max(1, Math.floor(settings.sessionTtlMs / 1000));
    void reply.header('set-cookie', sessionCookie(req, cookieId, maxAge));
    req.log.info({ actor: actorOf(session.identity) }, 'console login');
    return me(authenticator, { ...req.zkhaAuth, auth: { ...req.zkhaAuth.auth, identity: session.identity }, session, cookieId });
  });

  app.post('/api/auth/logout', async (req, reply) => {
    void reply.header('cache-control', 'no-store');
    const state = req.zkhaAuth;
    if (state.auth.forgery) return reply.status(403).send(errorBody('FORBIDDEN', state.auth.forgery));
    if (state.cookieId) authenticator.closeSession(state.cookieId);
    void reply.header('set-cookie', sessionCookie(req, '', 0));
    return { ok: true };
  });
}
