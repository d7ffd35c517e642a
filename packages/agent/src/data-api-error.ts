import { AGENT_ERROR_STATUS, type TAgentErrorBody, type TAgentErrorCode } from '@zkha/storage';

/**
 * What the data API's handlers throw; the server maps it to `{ code, message, details }` with the code's status
 * in one place (data-server.ts). Anything else thrown becomes INTERNAL.
 */
export class DataApiError extends Error {
  override readonly name = 'DataApiError';
  constructor(
    readonly code: TAgentErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): number {
    return AGENT_ERROR_STATUS[this.code];
  }

  toBody(): TAgentErrorBody {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isDataApiError(err: unknown): err is DataApiError {
  return err instanceof DataApiError;
}

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
