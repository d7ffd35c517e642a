/**
 * Staging, the first half of every write into the folder: the bytes land under a dot-prefixed `.part` name
 * (invisible: refused as a file name, so never listed or served) and are checked, length and SHA-256, before
 * publishing may give them their real name. They come from a stream (a put or a pull), from memory (a frame of a
 * multi-file read), or by hard link from another agent's folder on the same filesystem. Whatever fails removes its
 * `.part` file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readSync, type Stats, unlinkSync, writeSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { FrameStreamError, TEMP_SUFFIX } from '@zkha/storage';

import { DataApiError, errnoOf, isDataApiError } from './data-api-error.ts';
import { hashHandle, identity, SMALL_IO_BYTES, writeAll } from './disk-io.ts';
import type { FileIdentity } from './folder-index.ts';

/** Per-process prefix of temp names; a counter makes each unique (no random bytes per file). */
const TEMP_TAG = randomBytes(4).toString('hex');
let tempSeq = 0;
/** link() errors that send a same-host fast-path file over HTTP instead (gone, another filesystem, not allowed). */
const LINK_ELSEWHERE = new Set(['ENOENT', 'EXDEV', 'EPERM', 'EACCES', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'ELOOP', 'ENOTDIR']);

/** A verified file waiting under its temp name for publishStaged. */
export interface StagedFile {
  name: string;
  tempPath: string;
  sha256: string;
  sizeBytes: number;
  id: FileIdentity;
  /** Its data was fsynced on its own. */
  synced: boolean;
}

export interface WriteExpectation {
  sha256: string;
  sizeBytes: number;
  signal?: AbortSignal;
}

/** Where a file is staged: the folder, and the node a NODE_FULL names (an AgentFolder's options). */
export interface StagingFolder {
  readonly dir: string;
  readonly node: string;
}

/** AgentFolder.stage's work, for a `name` already checked: `source` into a `.part` file, verified. */
export async function stageStream(
  folder: StagingFolder,
  name: string,
  source: AsyncIterable<Uint8Array>,
  want: WriteExpectation,
  opts: { sync: boolean },
): Promise<StagedFile> {
  const tempPath = tempPathFor(folder.dir, name);
  const hash = createHash('sha256');
  let size = 0;
  let fh: FileHandle | undefined;
  try {
    fh = await open(tempPath, 'wx', 0o644);
    try {
      for await (const chunk of source) {
        want.signal?.throwIfAborted();
        size += chunk.byteLength;
        // Stop at the first byte too many rather than writing a source that never ends.
        if (size > want.sizeBytes)
          throw new DataApiError('LENGTH_MISMATCH', `more than the declared ${want.sizeBytes} bytes arrived`, {
            expected: want.sizeBytes,
          });
        hash.update(chunk);
        await writeAll(fh, chunk);
      }
    } catch (err) {
      // A frame stream that broke off is the source's failure, told apart by the caller (SOURCE_UNAVAILABLE).
      if (isDataApiError(err) || errnoOf(err) === 'ENOSPC' || err instanceof FrameStreamError) throw err;
      // The sender went away or broke off: a truncated body is a length problem, whatever the socket said.
      throw new DataApiError(
        'LENGTH_MISMATCH',
        `the body broke off after ${size} of ${want.sizeBytes} bytes: ${(err as Error).message}`,
        { expected: want.sizeBytes, received: size },
        { cause: err },
      );
    }
    checkLength(size, want);
    const sha256 = hash.digest('hex');
    checkSha256(sha256, want);
    if (opts.sync) await fh.sync();
    // link() and unlink() of the temp name change nothing the index keys on: this is the published file's identity.
    const id = identity(await fh.stat());
    await fh.close();
    fh = undefined;
    return { name, tempPath, sha256, sizeBytes: size, id, synced: opts.sync };
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await rm(tempPath, { force: true }).catch(() => undefined);
    throw asNodeFull(folder.node, err);
  }
}

/** AgentFolder.stageSmall's work, for a `name` already checked: bytes in memory verified, then written synchronously. */
export function stageBytes(folder: StagingFolder, name: string, chunks: readonly Uint8Array[], want: WriteExpectation): StagedFile {
  const size = chunks.reduce((s, c) => s + c.byteLength, 0);
  checkLength(size, want);
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const sha256 = hash.digest('hex');
  checkSha256(sha256, want);
  const tempPath = tempPathFor(folder.dir, name);
  let fd: number | undefined;
  try {
    fd = openSync(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    for (const c of chunks) for (let off = 0; off < c.byteLength;) off += writeSync(fd, c, off, c.byteLength - off);
    const id = identity(fstatSync(fd));
    closeSync(fd);
    fd = undefined;
    return { name, tempPath, sha256, sizeBytes: size, id, synced: false };
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tempPath);
    } catch {
      // never created, or already gone
    }
    throw asNodeFull(folder.node, err);
  }
}

/** AgentFolder.stageLink's work, for a `name` already checked: `sourcePath` linked to a temp name, then verified. */
export async function stageLink(
  folder: StagingFolder,
  sourcePath: string,
  name: string,
  want: WriteExpectation,
): Promise<StagedFile | null> {
  const tempPath = tempPathFor(folder.dir, name);
  try {
    linkSync(sourcePath, tempPath);
  } catch (err) {
    if (LINK_ELSEWHERE.has(errnoOf(err) ?? '')) return null;
    throw err;
  }
  const drop = () => {
    try {
      unlinkSync(tempPath);
    } catch {
      // already gone
    }
  };
  try {
    // O_NOFOLLOW: link() of a symlink links the symlink itself; such a thing is no file of the source's.
    const fd = openSync(tempPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    let st: Stats;
    let sha256: string;
    try {
      st = fstatSync(fd);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ELOOP' });
      if (st.size !== want.sizeBytes)
        throw new DataApiError('LENGTH_MISMATCH', `the source holds ${st.size} bytes, ${want.sizeBytes} were expected`, {
          expected: want.sizeBytes,
          source: st.size,
        });
      if (st.size <= SMALL_IO_BYTES) {
        const bytes = Buffer.allocUnsafe(st.size);
        for (let pos = 0; pos < st.size;) {
          const n = readSync(fd, bytes, pos, st.size - pos, pos);
          if (n === 0) throw new DataApiError('LENGTH_MISMATCH', `the source's copy shrank while being read`, { expected: want.sizeBytes });
          pos += n;
        }
        sha256 = createHash('sha256').update(bytes).digest('hex');
      } else {
        const fh = await open(tempPath, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          sha256 = await hashHandle(fh, st.size);
        } finally {
          await fh.close();
        }
      }
    } finally {
      closeSync(fd);
    }
    checkSha256(sha256, want);
    return { name, tempPath, sha256, sizeBytes: st.size, id: identity(st), synced: true };
  } catch (err) {
    drop();
    if (errnoOf(err) === 'ELOOP') return null;
    throw err;
  }
}

function tempPathFor(dir: string, name: string): string {
  return path.join(dir, `.${name}.${TEMP_TAG}${(++tempSeq).toString(36)}${TEMP_SUFFIX}`);
}

function checkLength(size: number, want: WriteExpectation): void {
  if (size !== want.sizeBytes)
    throw new DataApiError('LENGTH_MISMATCH', `${size} bytes arrived, ${want.sizeBytes} were declared`, {
      expected: want.sizeBytes,
      received: size,
    });
}

function checkSha256(sha256: string, want: WriteExpectation): void {
  if (sha256 !== want.sha256)
    throw new DataApiError('CHECKSUM_MISMATCH', `content hashes to ${sha256}, ${want.sha256} was declared`, {
      expected: want.sha256,
      actual: sha256,
    });
}

/** What a failed write throws: a full filesystem as NODE_FULL, anything else as it came. */
function asNodeFull(node: string, err: unknown): unknown {
  if (errnoOf(err) !== 'ENOSPC') return err;
  return new DataApiError('NODE_FULL', `node ${node}: the filesystem ran out of space`, { node }, { cause: err });
}
