import { isAbsolute, posix, win32 } from 'node:path';
import { AppError } from '@zkha/core';

export const MAX_FILE_NAME_LENGTH = 200;

/** Suffix of in-flight writes; such files are invisible to counts and listings. */
export const TEMP_SUFFIX = '.part';

/**
 * Why `name` is not an acceptable stored-file name, or null when it is. A plain name is one path
 * segment that can never climb out of, or hide inside, a node folder.
 */
export function fileNameProblem(name: string): string | null {
  if (name.length === 0) return 'file name is empty';
  // Bytes as well as characters: temp names add a prefix and suffix and must stay under NAME_MAX (255).
  if (name.length > MAX_FILE_NAME_LENGTH || Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_LENGTH) {
    return `file name is longer than ${MAX_FILE_NAME_LENGTH} characters (or UTF-8 bytes)`;
  }
  if (name.includes('\0')) return 'file name contains a NUL byte';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'file name contains control characters';
  if (isAbsolute(name) || posix.isAbsolute(name) || win32.isAbsolute(name)) {
    return 'file name must be a plain name, not an absolute path';
  }
  if (name.includes('/') || name.includes('\\')) return 'file name must not contain path separators (/ or \\)';
  if (name.includes('..')) return "file name must not contain '..'";
  // Leading dots are reserved for our temp files (and would hide files from `ls`).
  if (name.startsWith('.')) return 'file name must not start with a dot';
  // The .part suffix marks in-flight writes: such a file is invisible to listings and deleted at start-up.
  if (name.endsWith(TEMP_SUFFIX)) return `file name must not end with ${TEMP_SUFFIX} (reserved for writes in flight)`;
  // " report.txt" and "report.txt " look like "report.txt" everywhere they are shown.
  if (name.trim() !== name) return 'file name must not start or end with whitespace';
  return null;
}

/** Throws INVALID_PATH, saying what is wrong, unless `name` is a plain file name. */
export function assertPlainFileName(name: string): string {
  const problem = fileNameProblem(name);
  if (problem !== null) throw new AppError('INVALID_PATH', `${problem}: ${JSON.stringify(name)}`, { name });
  return name;
}

/** In-flight and leftover writes: dot-prefixed names and `.part` files are never user files. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') || name.endsWith(TEMP_SUFFIX);
}
