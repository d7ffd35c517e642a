/**
 * Domain errors carry a stable code; the transport layers (tRPC error formatter, REST handler)
 * map codes to HTTP/tRPC statuses in exactly one place each.
 */
export const APP_ERROR_CODES = [
  'BAD_INPUT',
  'NODE_NOT_FOUND',
  'FILE_NOT_FOUND',
  'TASK_NOT_FOUND',
  'INVALID_PATH',
  'PAYLOAD_TOO_LARGE',
  'CONFLICT',
  'NODE_FULL',
  'NO_QUORUM',
  'ZK_UNAVAILABLE',
  'STORAGE_ERROR',
  'STORAGE_UNAVAILABLE',
  'CHECKSUM_MISMATCH',
  'NOT_SUPPORTED',
  'NO_LEADER',
  'LEADER_UNAVAILABLE',
  'INTERNAL',
] as const;

export type TAppErrorCode = (typeof APP_ERROR_CODES)[number];

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: TAppErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** HTTP status per code, shared by REST and the tRPC formatter so both say the same thing. */
export const HTTP_STATUS_BY_CODE: Record<TAppErrorCode, number> = {
  BAD_INPUT: 400,
  INVALID_PATH: 400,
  NODE_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  CONFLICT: 409,
  NODE_FULL: 507, // Insufficient Storage: the node's capacity, not the request, is what stands in the way
  NO_QUORUM: 503,
  ZK_UNAVAILABLE: 503,
  STORAGE_ERROR: 500,
  STORAGE_UNAVAILABLE: 503, // the node's storage agent is not registered or does not answer: retry, or look at the node
  CHECKSUM_MISMATCH: 422, // a client's declared checksum did not match what it sent
  NOT_SUPPORTED: 501,
  NO_LEADER: 503, // no zkha instance leads the control plane right now (an election is under way): retry shortly
  LEADER_UNAVAILABLE: 502, // a mutation forwarded to the leader got no answer: it may or may not have been done
  INTERNAL: 500,
};
