import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z, ZodError } from 'zod';

import { isAppError, type TAppErrorCode } from '@zkha/core';
import { runAsActor } from '@zkha/services';

import { actorOf, checkAccess, LOCAL_AUTH, RateLimitedError, WORK_PROCEDURES } from './auth.ts';
import type { Context } from './context.ts';

const TRPC_CODE_BY_APP_CODE: Record<TAppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_INPUT: 'BAD_REQUEST',
  INVALID_PATH: 'BAD_REQUEST',
  NODE_NOT_FOUND: 'NOT_FOUND',
  FILE_NOT_FOUND: 'NOT_FOUND',
  TASK_NOT_FOUND: 'NOT_FOUND',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  CONFLICT: 'CONFLICT',
  // tRPC has no 507: 409 says the node's state refuses the write; data.appCode says NODE_FULL.
  NODE_FULL: 'CONFLICT',
  NO_QUORUM: 'SERVICE_UNAVAILABLE',
  ZK_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  STORAGE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  STORAGE_ERROR: 'INTERNAL_SERVER_ERROR',
  CHECKSUM_MISMATCH: 'UNPROCESSABLE_CONTENT',
  NOT_SUPPORTED: 'NOT_IMPLEMENTED',
  NO_LEADER: 'SERVICE_UNAVAILABLE',
  LEADER_UNAVAILABLE: 'BAD_GATEWAY',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

/** Human text for zod issues: "files: must be at most 2000". */
export function describeZodError(err: ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

const t = initTRPC.context<Context>().create({
  // tRPC would put the stack (with the server's absolute paths) in every error it answers while NODE_ENV is not
  // "production"; the formatter below adds it only when the server's ERROR_STACKS setting says so.
  isDev: false,
  sse: {
    ping: { enabled: true, intervalMs: 5_000 },
    client: { reconnectAfterInactivityMs: 12_000 },
  },
  errorFormatter({ shape, error, ctx }) {
    const cause = error.cause;
    const zod = cause instanceof ZodError ? cause : null;
    return {
      ...shape,
      message: zod ? describeZodError(zod) : shape.message,
      data: {
        ...shape.data,
        ...(ctx?.services.config.errorStacks && error.stack ? { stack: error.stack } : {}),
        appCode: isAppError(cause) ? cause.code : cause instanceof RateLimitedError ? 'RATE_LIMITED' : null,
        ...(cause instanceof RateLimitedError ? { retryAfterSec: cause.retryAfterSec } : {}),
        zodError: zod ? z.flattenError(zod) : null,
      },
    };
  },
});

/**
 * Turns domain errors into tRPC errors with the right status, and input errors into one readable line,
 * once, for every procedure (server-side callers included, which the HTTP error formatter never sees).
 */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (isAppError(cause)) {
      throw new TRPCError({ code: TRPC_CODE_BY_APP_CODE[cause.code], message: cause.message, cause });
    }
    if (cause instanceof ZodError) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: describeZodError(cause), cause });
    }
  }
  return result;
});

/**
 * Access control for every procedure, in one place: queries and subscriptions need a viewer, mutations an
 * operator (and READ_ONLY refuses them all); work-creating mutations draw on the caller's allowance. The
 * procedure then runs as the caller, so the operations it records name who acted.
 */
const access = t.middleware(async ({ ctx, type, path, next }) => {
  const auth = ctx.auth ?? LOCAL_AUTH;
  const denied = checkAccess(auth, type);
  if (denied) {
    throw new TRPCError({ code: denied.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message: denied.message });
  }
  // checkAccess let it through, so there is an identity.
  const actor = actorOf(auth.identity!);
  if (type === 'mutation' && auth.limiter && WORK_PROCEDURES.has(path)) {
    const retryAfterSec = auth.limiter.take(actor);
    if (retryAfterSec > 0) {
      const cause = new RateLimitedError(retryAfterSec);
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: cause.message, cause });
    }
  }
  return runAsActor(actor, () => next());
});

/**
 * Times every call (`zkha_trpc_request_duration_seconds`) and counts refusals for want of allowance. First in the
 * chain, so a call refused by access control or its rate limit is measured too.
 */
const timing = t.middleware(async ({ ctx, type, path, next }) => {
  const t0 = performance.now();
  const result = await next();
  const code = result.ok ? 'OK' : result.error.code;
  const metrics = ctx.services.metrics;
  metrics.observeTrpc(path, type, code, (performance.now() - t0) / 1000);
  if (code === 'TOO_MANY_REQUESTS') metrics.recordRateLimited('trpc');
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(timing).use(access).use(appErrors);
