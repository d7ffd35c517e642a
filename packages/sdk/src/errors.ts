import { TRPCClientError } from '@trpc/client';

import type { AppRouter } from '@zkha/api';

/** An error from a zkha server, with its tRPC code, its domain code (`NODE_NOT_FOUND`...) and zod details. */
export type ZkhaClientError = TRPCClientError<AppRouter>;

export function isZkhaClientError(err: unknown): err is ZkhaClientError {
  return err instanceof TRPCClientError;
}

/**
 * True when the server does not have the procedure at all (an older server): tRPC answers NOT_FOUND without a
 * domain code, unlike a NOT_FOUND for an unknown node or file, which carries `appCode`.
 */
export function isUnknownProcedureError(err: unknown): boolean {
  if (!isZkhaClientError(err)) return false;
  const data = err.data as { code?: unknown; appCode?: unknown; httpStatus?: unknown } | null | undefined;
  if (data == null) return false;
  return (data.code === 'NOT_FOUND' || data.httpStatus === 404) && (data.appCode === null || data.appCode === undefined);
}

const ERRNO_CODE = /^(E[A-Z0-9_]+|UND_ERR_[A-Z_]+|CERT_[A-Z_]+|ERR_TLS_[A-Z_]+)$/;
/** Codes looked for in message text: an SSE error event keeps only "TypeError: fetch failed: connect ECONNREFUSED ...". */
const NETWORK_CODE_IN_TEXT =
  /\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)\b/;

/**
 * The network error code (`ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`...) when the server could not be reached at
 * all, or null when it answered. Node's fetch buries it in a chain of causes (and an AggregateError for
 * dual-stack hosts).
 */
export function connectionErrorCode(err: unknown): string | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  // An answer from the server (an error shape) means it was reached, whatever else the chain holds.
  if (isZkhaClientError(err) && err.shape != null) return null;
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, cause, errors, message } = e as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
    if (typeof code === 'string' && ERRNO_CODE.test(code)) return code;
    const inText = typeof message === 'string' ? NETWORK_CODE_IN_TEXT.exec(message) : null;
    if (inText?.[1]) return inText[1];
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return null;
}
