import { connectionErrorCode, isZkhaClientError } from '@zkha/sdk/client';

/** A mistake in how the CLI was called (exit 2): bad flags, a missing confirmation, an invalid URL. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure to report in one line (exit 1), such as a procedure the server does not have yet. */
export class CliError extends Error {
  override name = 'CliError';
}

export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/**
 * The one line and the exit code for anything a command throws. Server errors keep the server's words
 * ("files: must be at least 1"); a server that cannot be reached is named with the network error code.
 */
export function describeFailure(err: unknown, url: string): { message: string; exitCode: number } {
  if (err instanceof UsageError) return { message: err.message, exitCode: EXIT.usage };
  if (err instanceof CliError) return { message: err.message, exitCode: EXIT.error };
  const code = connectionErrorCode(err);
  if (code !== null) return { message: `cannot reach the zkha server at ${url} (${code})`, exitCode: EXIT.error };
  if (isZkhaClientError(err)) {
    if (err.shape == null) {
      // No tRPC error shape: the request failed before a zkha server answered, or something else answered.
      const detail = err.cause instanceof Error ? err.cause.message : err.message;
      return /fetch failed/i.test(err.message)
        ? {
            message: `cannot reach the zkha server at ${url} (${detail.replace(/^(TypeError: )?fetch failed:?\s*/i, '') || 'fetch failed'})`,
            exitCode: EXIT.error,
          }
        : { message: `unexpected answer from ${url}, is it a zkha server? (${err.message})`, exitCode: EXIT.error };
    }
    return { message: err.message, exitCode: EXIT.error };
  }
  return { message: err instanceof Error ? err.message : String(err), exitCode: EXIT.error };
}
