import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z, ZodError } from 'zod';

import { isAppError, type TAppErrorCode } from '@zkha/core';

import type { Context } from './context.ts';

const TRPC_CODE_BY_APP_CODE: Record<TAppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_INPUT: 'BAD_REQUEST',
  INVALID_PATH: 'BAD_REQUEST',
  NODE_NOT_FOUND: 'NOT_FOUND',
  FILE_NOT_FOUND: 'NOT_FOUND',
  TASK_NOT_FOUND: 'NOT_FOUND',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  CONFLICT: 'CONFLICT',
  NO_QUORUM: 'SERVICE_UNAVAILABLE',
  ZK_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  STORAGE_ERROR: 'INTERNAL_SERVER_ERROR',
  CHECKSUM_MISMATCH: 'UNPROCESSABLE_CONTENT',
  NOT_SUPPORTED: 'NOT_IMPLEMENTED',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

/** Human text for zod issues: "files: must be at most 2000". */
export function describeZodError(err: ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

const t = initTRPC.context<Context>().create({
  sse: {
    ping: { enabled: true, intervalMs: 5_000 },
    client: { reconnectAfterInactivityMs: 12_000 },
  },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const zod = cause instanceof ZodError ? cause : null;
    return {
      ...shape,
      message: zod ? describeZodError(zod) : shape.message,
      data: {
        ...shape.data,
        appCode: isAppError(cause) ? cause.code : null,
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

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors);
