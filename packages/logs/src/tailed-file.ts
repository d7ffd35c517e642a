/**
 * What the tailer keeps for each followed file, and how it knows a file by its content rather than its
 * name: device + inode + a hash of its first bytes. The same identity, as text, is the `fileId` a
 * position is saved under in the store.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { LogFormat } from './parsers.ts';

/** Bytes hashed to tell a file's content apart from another file that got the same inode. */
export const HEAD_BYTES = 1024;

/** A spec's format, and its source made a function of the file's path. */
export interface ResolvedSpec {
  format: LogFormat;
  source: (file: string) => string;
}

/** A followed file: its identity, how far it has been read, and what the store holds for it. */
export interface FileState {
  path: string;
  spec: ResolvedSpec;
  dev: number;
  ino: number;
  headLen: number;
  headHash: string;
  /** Bytes consumed (a line boundary). */
  offset: number;
  /** What the store holds for this path, to skip saving unchanged positions. */
  savedId: string | null;
  savedOffset: number;
  lastSize: number;
  lastGrowthAt: number;
}

/** A position as the store holds it, its `fileId` read back into an identity. */
export interface SavedOffset {
  dev: number;
  ino: number;
  headLen: number;
  headHash: string;
  offset: number;
}

/** The identity as the `fileId` text saved with a position. */
export function fileIdOf(s: { dev: number; ino: number; headLen: number; headHash: string }): string {
  return `${s.dev}:${s.ino}:${s.headLen}:${s.headHash}`;
}

/** The identity in a saved `fileId`, or null when the text is not one `fileIdOf` wrote. */
export function parseFileId(id: string): Omit<SavedOffset, 'offset'> | null {
  const m = /^(\d+):(\d+):(\d+):([0-9a-f]*)$/.exec(id);
  if (!m) return null;
  return { dev: Number(m[1]), ino: Number(m[2]), headLen: Number(m[3]), headHash: m[4] ?? '' };
}

/** The hash of a file's first bytes, as kept in a `FileState`. */
export function hashHead(buf: Buffer): string {
  return createHash('sha1').update(buf).digest('hex').slice(0, 16);
}

/** Reads `length` bytes at `position`, or fewer when the file ends first. */
export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}
