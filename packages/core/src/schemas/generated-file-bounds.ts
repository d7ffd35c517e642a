/**
 * The bounds of a request that generates files (bulk generate, stress): how many, how big, and the byte budget of
 * the whole request. Module-private to the schemas: not re-exported by the package.
 */
import { z } from 'zod';

import { LIMITS } from './shared.ts';

export const fileCount = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(LIMITS.maxFilesPerRequest, `must be at most ${LIMITS.maxFilesPerRequest}`);
export const sizeKb = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1 KiB')
  .max(LIMITS.maxSizeKb, `must be at most ${LIMITS.maxSizeKb} KiB`);

export function withinByteBudget(count: number, kb: number): boolean {
  return count * kb * 1024 <= LIMITS.maxBytesPerRequest;
}
export const byteBudgetMessage = `files x size must stay within ${LIMITS.maxBytesPerRequest / 1024 / 1024} MiB per request`;
