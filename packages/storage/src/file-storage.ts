import { createHash, randomBytes, randomFill } from 'node:crypto';
import { createReadStream, statSync, type Dirent } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { AppError, assertKnownNode, isAppError } from '@zkha/core';
import { assertPlainFileName, fileNameProblem, isTempName, TEMP_SUFFIX } from './names.ts';

const randomFillAsync = promisify(randomFill);

/** What a write produced: enough to create the file's database record. */
export interface StoredFile {
  name: string;
  /** Absolute path on disk. */
  path: string;
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
}

export interface NodeFileInfo {
  name: string;
  path: string;
  sizeBytes: number;
  modifiedAt: string;
}

export interface SaveUploadOptions {
  /** The upload is aborted (PAYLOAD_TOO_LARGE) as soon as it passes this many bytes. */
  maxBytes: number;
  /** When given, a different content hash fails the upload with CHECKSUM_MISMATCH. */
  expectedSha256?: string;
  signal?: AbortSignal;
}

export interface MoveFileOptions {
  /** Checked against the copy on cross-device moves; defaults to the hash of the bytes read. */
  expectedSha256?: string;
  /** Copy-verify-unlink even when rename would work (for tests and for volumes that lie about EXDEV). */
  forceCopy?: boolean;
}

export interface FileStorageOptions {
  root: string;
  nodes: readonly string[];
  /** Default for MoveFileOptions.forceCopy. */
  forceCopyMoves?: boolean;
}

export type UploadSource = AsyncIterable<Uint8Array> | Readable;

/** The storage port: what the services need from "files live in per-node folders". */
export interface FileStoragePort {
  readonly root: string;
  readonly nodes: readonly string[];
  ensureLayout(): Promise<void>;
  nodeDir(node: string): string;
  safePath(node: string, fileName: string): string;
  createDemoFile(node: string, sizeBytes: number, name?: string): Promise<StoredFile>;
  saveUpload(node: string, name: string, source: UploadSource, options: SaveUploadOptions): Promise<StoredFile>;
  moveFile(currentPath: string, targetNode: string, options?: MoveFileOptions): Promise<string>;
  deleteFile(path: string): Promise<boolean>;
  countPerNode(): Promise<Record<string, number>>;
  bytesPerNode(): Promise<Record<string, number>>;
  listNodeFiles(node: string): Promise<NodeFileInfo[]>;
  sha256OfFile(path: string): Promise<string>;
  exists(path: string): Promise<boolean>;
}

const CHUNK_BYTES = 1024 * 1024;
// Stats run in small batches: enough parallelism for a fast disk, no EMFILE on 100k-file folders.
const STAT_BATCH = 64;
// Errors from link() that mean "this filesystem has no hard links", not "something is wrong".
const NO_HARDLINK_CODES = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EACCES']);

function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function shortId(): string {
  return randomBytes(5).toString('hex');
}

function normaliseSha(sha: string): string {
  return sha.trim().toLowerCase();
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new AppError('BAD_INPUT', 'upload stream yielded something other than bytes');
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** fsync a directory so a rename/unlink in it survives power loss; a no-op where the OS refuses. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms (Windows, some network filesystems) cannot fsync a directory; the data is already synced.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += STAT_BATCH) {
    out.push(...(await Promise.all(items.slice(i, i + STAT_BATCH).map(fn))));
  }
  return out;
}

/**
 * Files of node N live in `<root>/<N>/`. Every write goes to a dot-prefixed `.part` file in the target
 * folder, is fsynced, and only then appears under its final name, so readers and crash recovery never
 * see half a file under a real name.
 */
export class FileStorage implements FileStoragePort {
  readonly root: string;
  readonly nodes: readonly string[];
  private readonly forceCopyMoves: boolean;
  /** Device id of each node folder, for canHardLink; folders do not change device while running. */
  private readonly devices = new Map<string, number>();

  constructor(options: FileStorageOptions) {
    this.root = resolve(options.root);
    this.nodes = [...options.nodes];
    this.forceCopyMoves = options.forceCopyMoves ?? false;
    for (const node of this.nodes) {
      // Node names become folder names; the same rules as file names keep them inside root.
      const problem = fileNameProblem(node);
      if (problem !== null) throw new AppError('BAD_INPUT', `node name ${JSON.stringify(node)} is unusable: ${problem}`);
    }
  }

  /**
   * Registers a storage node added while running (scale-up); idempotent. Its folder appears on the next
   * `ensureLayout()`. The name passes the same checks as the constructor's.
   */
  addNode(node: string): void {
    const problem = fileNameProblem(node);
    if (problem !== null) throw new AppError('BAD_INPUT', `node name ${JSON.stringify(node)} is unusable: ${problem}`);
    if (!this.nodes.includes(node)) (this.nodes as string[]).push(node);
  }

  /**
   * Whether a file can move between two node folders by hard link (same filesystem, copies not forced): the
   * bytes then never move, only a name is added and another removed. A folder that cannot be read says no,
   * and the caller copies instead.
   */
  canHardLink(sourceNode: string, targetNode: string): boolean {
    if (this.forceCopyMoves) return false;
    const device = (node: string): number | null => {
      let dev = this.devices.get(node);
      if (dev === undefined) {
        try {
          dev = statSync(this.nodeDir(node)).dev;
        } catch {
          return null;
        }
        this.devices.set(node, dev);
      }
      return dev;
    };
    const a = device(sourceNode);
    return a !== null && a === device(targetNode);
  }

  /** Creates the root and one folder per node (idempotent). */
  async ensureLayout(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await Promise.all(this.nodes.map((node) => mkdir(this.nodeDir(node), { recursive: true })));
  }

  /** The folder of a configured node; NODE_NOT_FOUND otherwise. */
  nodeDir(node: string): string {
    assertKnownNode(this.nodes, node);
    return join(this.root, node);
  }

  /**
   * Absolute path of `fileName` in `node`'s folder. Throws NODE_NOT_FOUND for an unknown node and
   * INVALID_PATH (saying what is wrong) for anything but a plain file name.
   */
  safePath(node: string, fileName: string): string {
    const dir = this.nodeDir(node);
    assertPlainFileName(fileName);
    const full = resolve(dir, fileName);
    // Belt and braces after the name rules: the resolved path must be a direct child of the node folder.
    if (dirname(full) !== dir || basename(full) !== fileName) {
      throw new AppError('INVALID_PATH', `file name ${JSON.stringify(fileName)} escapes the node folder`, {
        node,
        name: fileName,
      });
    }
    return full;
  }

  /**
   * Which node and name an absolute path stands for; INVALID_PATH unless it is `<root>/<node>/<plain name>`.
   * Every method taking a path goes through this so a bad database row cannot make us touch other files.
   */
  locate(path: string): { node: string; name: string; path: string } {
    const full = resolve(path);
    const parts = relative(this.root, full).split(sep);
    const [node, name] = parts;
    if (parts.length !== 2 || node === undefined || name === undefined || !this.nodes.includes(node)) {
      throw new AppError('INVALID_PATH', `path ${JSON.stringify(path)} is not a file in a node folder under ${this.root}`, {
        path,
      });
    }
    return { node, name, path: this.safePath(node, name) };
  }

  /** Writes `sizeBytes` random bytes to a new file (`demo-<id>.bin` unless named) on `node`. */
  async createDemoFile(node: string, sizeBytes: number, name?: string): Promise<StoredFile> {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
      throw new AppError('BAD_INPUT', `sizeBytes must be a non-negative integer, got ${sizeBytes}`);
    }
    const randomChunks = async function* (): AsyncGenerator<Uint8Array> {
      let left = sizeBytes;
      while (left > 0) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, left));
        await randomFillAsync(chunk);
        left -= chunk.byteLength;
        yield chunk;
      }
    };
    if (name !== undefined) return this.writeNew(node, name, randomChunks(), { maxBytes: sizeBytes });
    // Generated names only collide by chance; retry rather than surface a CONFLICT the caller did not cause.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.writeNew(node, `demo-${shortId()}.bin`, randomChunks(), { maxBytes: sizeBytes });
      } catch (err) {
        if (!(isAppError(err) && err.code === 'CONFLICT') || attempt >= 4) throw err;
      }
    }
  }

  /**
   * Streams an upload into `node` as `name`. Over `maxBytes` (PAYLOAD_TOO_LARGE), a failing source,
   * an abort or a hash mismatch (CHECKSUM_MISMATCH) leave nothing behind. An existing file with the same
   * name is never overwritten (CONFLICT): its database record would silently point at new content.
   */
  async saveUpload(node: string, name: string, source: UploadSource, options: SaveUploadOptions): Promise<StoredFile> {
    return this.writeNew(node, name, source as AsyncIterable<unknown>, options);
  }

  /**
   * Moves a stored file into `targetNode`'s folder under the same name and returns the new path.
   * Same filesystem: a hard link then unlink, which is atomic like rename but refuses to replace a file
   * that appeared meanwhile. Across devices: copy to a temp file, fsync, verify SHA-256, publish, unlink
   * the source. Missing source: FILE_NOT_FOUND; name taken on the target: CONFLICT. Moving to the node
   * the file is already on returns its path unchanged.
   */
  async moveFile(currentPath: string, targetNode: string, options: MoveFileOptions = {}): Promise<string> {
    const src = this.locate(currentPath);
    const dest = this.safePath(targetNode, src.name);
    const srcStat = await lstat(src.path).catch((err: unknown) => {
      if (errCode(err) === 'ENOENT') {
        throw new AppError('FILE_NOT_FOUND', `file ${src.path} does not exist`, { path: src.path });
      }
      throw this.storageError(`cannot stat ${src.path}`, err);
    });
    if (!srcStat.isFile()) throw new AppError('INVALID_PATH', `${src.path} is not a regular file`, { path: src.path });
    if (dest === src.path) return dest;
    await mkdir(dirname(dest), { recursive: true });
    if (await this.pathExists(dest)) throw this.conflict(dest);

    if (!(options.forceCopy ?? this.forceCopyMoves)) {
      try {
        // publish() removes the source name itself (unlink after link, or rename).
        await this.publish(src.path, dest);
        await syncDir(dirname(dest));
        await syncDir(dirname(src.path));
        return dest;
      } catch (err) {
        if (errCode(err) !== 'EXDEV') throw isAppError(err) ? err : this.storageError(`cannot move ${src.path}`, err);
        // Different devices: fall through to copy + verify.
      }
    }
    await this.copyVerified(src.path, dest, options.expectedSha256);
    await unlink(src.path).catch((err: unknown) => {
      if (errCode(err) !== 'ENOENT') throw this.storageError(`copied but could not remove ${src.path}`, err);
    });
    await syncDir(dirname(src.path));
    return dest;
  }

  /** Removes a stored file; false when it was not there. */
  async deleteFile(path: string): Promise<boolean> {
    const { path: full } = this.locate(path);
    try {
      await unlink(full);
      await syncDir(dirname(full));
      return true;
    } catch (err) {
      if (errCode(err) === 'ENOENT') return false;
      throw this.storageError(`cannot delete ${full}`, err);
    }
  }

  /** Regular files per node (temp files ignored); every configured node is present. */
  async countPerNode(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const node of this.nodes) out[node] = (await this.userEntries(node)).length;
    return out;
  }

  /** Total size of the regular files per node (temp files ignored). */
  async bytesPerNode(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const node of this.nodes) {
      out[node] = (await this.listNodeFiles(node)).reduce((sum, f) => sum + f.sizeBytes, 0);
    }
    return out;
  }

  /** The regular files in a node's folder, sorted by name; an absent folder is empty. */
  async listNodeFiles(node: string): Promise<NodeFileInfo[]> {
    const dir = this.nodeDir(node);
    const entries = await this.userEntries(node);
    const infos = await inBatches(entries, async (entry) => {
      const path = join(dir, entry.name);
      // A file deleted between readdir and stat is simply no longer listed.
      const st = await stat(path).catch(() => null);
      return st ? { name: entry.name, path, sizeBytes: st.size, modifiedAt: st.mtime.toISOString() } : null;
    });
    return infos.filter((f): f is NodeFileInfo => f !== null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** SHA-256 (hex) of a stored file; FILE_NOT_FOUND when missing. */
  async sha256OfFile(path: string): Promise<string> {
    const { path: full } = this.locate(path);
    try {
      return await hashFile(full);
    } catch (err) {
      if (errCode(err) === 'ENOENT') throw new AppError('FILE_NOT_FOUND', `file ${full} does not exist`, { path: full });
      throw this.storageError(`cannot read ${full}`, err);
    }
  }

  /** Whether a stored file exists as a regular file. */
  async exists(path: string): Promise<boolean> {
    return this.pathExists(this.locate(path).path);
  }

  /**
   * Deletes temp files left by a crash mid-write. Only those older than `olderThanMs` (default an hour),
   * so writes in flight in this process are not cut short. Returns how many were removed.
   */
  async cleanupTempFiles(olderThanMs = 60 * 60 * 1000): Promise<number> {
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    for (const node of this.nodes) {
      const dir = this.nodeDir(node);
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
      for (const entry of entries) {
        if (!entry.isFile() || !entry.name.startsWith('.') || !entry.name.endsWith(TEMP_SUFFIX)) continue;
        const path = join(dir, entry.name);
        const st = await stat(path).catch(() => null);
        if (st && st.mtimeMs <= cutoff) {
          await removeQuietly(path);
          removed++;
        }
      }
    }
    return removed;
  }

  // --- internals -------------------------------------------------------------------------------------

  private async userEntries(node: string): Promise<Dirent[]> {
    const dir = this.nodeDir(node);
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.filter((e) => e.isFile() && !isTempName(e.name));
    } catch (err) {
      if (errCode(err) === 'ENOENT') return [];
      throw this.storageError(`cannot list ${dir}`, err);
    }
  }

  private async pathExists(path: string): Promise<boolean> {
    try {
      return (await lstat(path)).isFile();
    } catch (err) {
      if (errCode(err) === 'ENOENT') return false;
      throw this.storageError(`cannot stat ${path}`, err);
    }
  }

  private tempPathFor(finalPath: string): string {
    return join(dirname(finalPath), `.${basename(finalPath)}.${shortId()}${TEMP_SUFFIX}`);
  }

  private conflict(path: string): AppError {
    return new AppError('CONFLICT', `a file named ${JSON.stringify(basename(path))} already exists in ${dirname(path)}`, {
      path,
    });
  }

  private storageError(message: string, cause: unknown): AppError {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return new AppError('STORAGE_ERROR', `${message}${detail}`, { errno: errCode(cause) }, { cause });
  }

  /**
   * Gives `tempPath` the name `finalPath` without ever replacing an existing file: link() fails with
   * EEXIST where rename() would silently overwrite. Filesystems without hard links fall back to
   * check-then-rename. EXDEV is rethrown untouched for the caller's copy fallback.
   */
  private async publish(tempPath: string, finalPath: string): Promise<void> {
    try {
      await link(tempPath, finalPath);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EEXIST') throw this.conflict(finalPath);
      if (code === undefined || !NO_HARDLINK_CODES.has(code)) throw err;
      if (await this.pathExists(finalPath)) throw this.conflict(finalPath);
      await rename(tempPath, finalPath);
      return;
    }
    await unlink(tempPath);
  }

  /** Streams `source` into a temp file (hashing and size-checking on the way), then publishes it. */
  private async writeNew(
    node: string,
    name: string,
    source: AsyncIterable<unknown>,
    options: SaveUploadOptions,
  ): Promise<StoredFile> {
    const finalPath = this.safePath(node, name);
    const { maxBytes, expectedSha256, signal } = options;
    if (!(maxBytes >= 0)) throw new AppError('BAD_INPUT', `maxBytes must be a non-negative number, got ${maxBytes}`);
    await mkdir(dirname(finalPath), { recursive: true });
    // Fail before reading a byte when the name is already taken; publish() re-checks atomically.
    if (await this.pathExists(finalPath)) throw this.conflict(finalPath);

    const tempPath = this.tempPathFor(finalPath);
    const hash = createHash('sha256');
    let size = 0;
    let fh: FileHandle | undefined;
    try {
      fh = await open(tempPath, 'wx');
      signal?.throwIfAborted();
      try {
        for await (const raw of source) {
          signal?.throwIfAborted();
          const chunk = toBytes(raw);
          size += chunk.byteLength;
          if (size > maxBytes) {
            throw new AppError('PAYLOAD_TOO_LARGE', `upload exceeds the limit of ${maxBytes} bytes`, { maxBytes });
          }
          hash.update(chunk);
          await writeAll(fh, chunk);
        }
      } catch (err) {
        if (isAppError(err)) throw err;
        if (signal?.aborted) throw new AppError('BAD_INPUT', 'upload aborted', undefined, { cause: err });
        // Anything else thrown while reading is the source failing (client gone, truncated body).
        throw new AppError('BAD_INPUT', `upload stream failed before completing: ${(err as Error)?.message ?? err}`, undefined, {
          cause: err,
        });
      }
      await fh.sync();
      await fh.close();
      fh = undefined;

      const sha256 = hash.digest('hex');
      if (expectedSha256 !== undefined && normaliseSha(expectedSha256) !== sha256) {
        throw new AppError('CHECKSUM_MISMATCH', `content hash ${sha256} does not match the expected ${expectedSha256}`, {
          expected: expectedSha256,
          actual: sha256,
        });
      }
      await this.publish(tempPath, finalPath);
      await syncDir(dirname(finalPath));
      return { name, path: finalPath, sizeBytes: size, sha256 };
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await removeQuietly(tempPath);
      throw isAppError(err) ? err : this.storageError(`cannot write ${finalPath}`, err);
    }
  }

  /** Cross-device half of moveFile: the copy is re-read from disk and must hash to the expected value. */
  private async copyVerified(srcPath: string, destPath: string, expectedSha256?: string): Promise<void> {
    const tempPath = this.tempPathFor(destPath);
    let fh: FileHandle | undefined;
    try {
      fh = await open(tempPath, 'wx');
      const readHash = createHash('sha256');
      for await (const chunk of createReadStream(srcPath, { highWaterMark: CHUNK_BYTES })) {
        readHash.update(chunk as Buffer);
        await writeAll(fh, chunk as Buffer);
      }
      await fh.sync();
      await fh.close();
      fh = undefined;

      const sourceSha = readHash.digest('hex');
      const want = expectedSha256 !== undefined ? normaliseSha(expectedSha256) : sourceSha;
      if (sourceSha !== want) {
        throw new AppError('CHECKSUM_MISMATCH', `source ${srcPath} hashes to ${sourceSha}, expected ${want}`, {
          path: srcPath,
          expected: want,
          actual: sourceSha,
        });
      }
      // Hash what actually landed on the target device, not what we meant to write.
      const copySha = await hashFile(tempPath);
      if (copySha !== want) {
        throw new AppError('CHECKSUM_MISMATCH', `copy of ${srcPath} hashes to ${copySha}, expected ${want}`, {
          path: destPath,
          expected: want,
          actual: copySha,
        });
      }
      await this.publish(tempPath, destPath);
      await syncDir(dirname(destPath));
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await removeQuietly(tempPath);
      if (isAppError(err)) throw err;
      if (errCode(err) === 'ENOENT') {
        throw new AppError('FILE_NOT_FOUND', `file ${srcPath} disappeared during the move`, { path: srcPath }, { cause: err });
      }
      throw this.storageError(`cannot copy ${srcPath} to ${destPath}`, err);
    }
  }
}
