import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { AppError } from '@zkha/core';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function sha256OfPath(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** Everything in a folder, temp files included: "leaves nothing behind" must see hidden files too. */
export async function allEntries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Temp folders removed after each test. */
export function useTempDirs(): (prefix?: string, base?: string) => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return async (prefix = 'zkha-storage-', base = tmpdir()) => {
    const dir = await mkdtemp(join(base, prefix));
    dirs.push(dir);
    return dir;
  };
}

/** Asserts that `fn` throws (or rejects with) an AppError of `code`, and returns it for further checks. */
export async function expectAppError(fn: () => unknown, code: string): Promise<AppError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected AppError ${code}`).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe(code);
  return caught as AppError;
}
