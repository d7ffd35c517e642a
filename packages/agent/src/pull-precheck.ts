/**
 * The checks a pull makes of each file before any traffic, whichever way the file then comes (a hard link or HTTP):
 * its checksum's form, its name, and whether it is already here with the same content (a retried batch); and a
 * file's failure as the result the batch answers for it.
 */
import { normaliseSha256, type TPullFile, type TPullFileResult } from '@zkha/storage';

import { DataApiError, isDataApiError } from './data-api-error.ts';
import { TimeSlice } from './disk-io.ts';
import type { PullContext } from './pull-source.ts';

/** A file's failure as its result in the batch's answer; anything not a DataApiError is INTERNAL. */
export function failure(name: string, err: unknown): TPullFileResult {
  const e = isDataApiError(err) ? err : new DataApiError('INTERNAL', (err as Error)?.message ?? String(err), undefined, { cause: err });
  return { name, ok: false, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
}

/** Checks one file of the batch before any traffic: its checksum's form, its name, and whether it is already here. */
export async function precheck(ctx: PullContext, file: TPullFile, small = false): Promise<{ sha256: string } | TPullFileResult> {
  const sha256 = normaliseSha256(file.sha256);
  if (sha256 === null) throw new DataApiError('BAD_INPUT', `sha256 of ${JSON.stringify(file.name)} is not 64 hex digits`);
  ctx.folder.pathOf(file.name); // BAD_INPUT for a name that could escape the folder
  // Already here (a retried batch): the same content is success without a byte on the wire. For a group of small
  // files, one synchronous lstat answers the usual "not here" (see SMALL_IO_BYTES).
  if ((!small || ctx.folder.existsSync(file.name)) && (await ctx.folder.stat(file.name))) {
    await ctx.folder.assertSameContent(file.name, { sha256, sizeBytes: file.sizeBytes });
    return { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256, created: false };
  }
  return { sha256 };
}

/**
 * Prechecks the given files in turn (yielding to other requests every few ms): those already answered (present,
 * or refused) get their result now; the rest come back with the checksum to fetch them by.
 */
export async function precheckAll(
  ctx: PullContext,
  files: readonly TPullFile[],
  indices: readonly number[],
  results: TPullFileResult[],
): Promise<{ index: number; sha256: string }[]> {
  const wanted: { index: number; sha256: string }[] = [];
  const slice = new TimeSlice();
  for (const index of indices) {
    await slice.maybeYield();
    try {
      const pre = await precheck(ctx, files[index]!, true);
      if ('name' in pre) results[index] = pre;
      else wanted.push({ index, sha256: pre.sha256 });
    } catch (err) {
      results[index] = failure(files[index]!.name, err);
    }
  }
  return wanted;
}
