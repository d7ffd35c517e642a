import { AppError } from '@zkha/core';
import { parseLocation } from '@zkha/storage';

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The node and name of a journal location; a row from before locations (an absolute path) has none. */
export function where(location: string): { node: string; name: string } {
  const at = parseLocation(location);
  if (!at) throw new AppError('INVALID_PATH', `${JSON.stringify(location)} is not a file location (node/name)`, { location });
  return at;
}
