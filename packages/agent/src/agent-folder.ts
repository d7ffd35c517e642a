/**
 * The disk side of the data API: the one folder this agent owns. Every write lands in a dot-prefixed `.part`
 * file, is checked (length and SHA-256) and fsynced, and only then gets its real name through link(), which
 * never replaces an existing file; so no reader, listing or crash ever sees half a file under a real name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

import { fileNameProblem, TEMP_SUFFIX, type TFileEntry } from '@zkha/storage';

import { DataApiError, errnoOf, isDataApiError } from './data-api-error.ts';
import { FolderIndex, type FileIdentity } from './folder-index.ts';

const CHUNK = 1024 * 1024;
const STAT_BATCH = 64;
// link() errors meaning "no hard links on this filesystem": fall back to check-then-rename.
const NO_HARDLINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);
/** Leftover `.part` files older than this are a crash's debris; younger ones may be another writer's, in flight. */
const STALE_PART_MS = 60 * 60 * 1000;

export interface AgentFolderOptions {
  node: string;
  dir: string;
  /** Configured capacity; null = the filesystem's size (the pre-capacity behaviour). */
  capacityBytes: number | null;
  maxFileBytes: number;
}

export interface WriteExpectation {
  sha256: string;
  sizeBytes: number;
  signal?: AbortSignal;
}

function identity(st: Stats): FileIdentity {
  return { size: st.size, ino: st.ino, mtimeMs: st.mtimeMs };
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  await fh?.sync().catch(() => undefined); // some filesystems refuse to fsync a directory; the data is synced
  await fh?.close().catch(() => undefined);
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.byteLength; ) off += (await fh.write(bytes, off, bytes.byteLength - off)).bytesWritten;
}

async function hashHandle(fh: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let pos = 0; ; ) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

/** Identifies the running kernel: st_dev values are only comparable between processes on the same one. */
async function kernelId(): Promise<string> {
  const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '');
  return bootId.trim() || hostname();
}

export class AgentFolder {
  readonly index = new FolderIndex();
  private filesystemId = '';
  private ownFilesystem = false;

  constructor(readonly opts: AgentFolderOptions) {}

  get dir(): string {
    return this.opts.dir;
  }

  /** Creates the folder, clears stale temp files, and indexes what is there (no hashing). */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const [own, parent] = await Promise.all([stat(this.dir), stat(path.dirname(path.resolve(this.dir)))]);
    this.ownFilesystem = own.dev !== parent.dev;
    this.filesystemId = `${await kernelId()}:${own.dev}`;
    const cutoff = Date.now() - STALE_PART_MS;
    for (const e of await readdir(this.dir, { withFileTypes: true })) {
      if (!e.isFile() || !e.name.startsWith('.') || !e.name.endsWith(TEMP_SUFFIX)) continue;
      const st = await lstat(path.join(this.dir, e.name)).catch(() => null);
      if (st && st.mtimeMs < cutoff) await rm(path.join(this.dir, e.name), { force: true });
    }
    await this.rescan();
  }

  /**
   * Walks the folder and makes the index agree with it. Needed at start and, while the control plane still writes
   * node folders directly (before issue 13's wiring), now and then to notice its writes.
   */
  async rescan(): Promise<void> {
    const mark = this.index.scanMark();
    const names = (await readdir(this.dir, { withFileTypes: true })).filter((e) => e.isFile() && fileNameProblem(e.name) === null).map((e) => e.name);
    const seen = new Map<string, FileIdentity>();
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      const batch = names.slice(i, i + STAT_BATCH);
      const stats = await Promise.all(batch.map((n) => lstat(path.join(this.dir, n)).catch(() => null)));
      batch.forEach((n, j) => {
        const st = stats[j];
        if (st?.isFile()) seen.set(n, identity(st));
      });
    }
    this.index.applyScan(mark, seen);
  }

  pathOf(name: string): string {
    const problem = fileNameProblem(name);
    if (problem !== null) throw new DataApiError('BAD_INPUT', `${problem}: ${JSON.stringify(name)}`, { name });
    return path.join(this.dir, name);
  }

  /** Capacity figures; statfs each time, as other writers (or other agents on the same disk) change free space. */
  async usage(): Promise<{ files: number; bytes: number; capacityBytes: number; freeBytes: number; reservedBytes: number; filesystemId: string; ownFilesystem: boolean }> {
    const fs = await statfs(this.dir);
    const fsFree = fs.bavail * fs.bsize;
    const capacityBytes = this.opts.capacityBytes ?? fs.blocks * fs.bsize;
    const { bytes, files, reserved } = this.index;
    // The filesystem's free space bounds the room too: on a shared disk other writers may have taken it.
    const freeBytes = Math.max(0, Math.min(capacityBytes - bytes - reserved, fsFree - reserved));
    return { files, bytes, capacityBytes, freeBytes, reservedBytes: reserved, filesystemId: this.filesystemId, ownFilesystem: this.ownFilesystem };
  }

  /**
   * Reserves room for a write of `size` bytes, or refuses with NODE_FULL and the figures. The check and the
   * reservation happen with no await between them, so two puts racing for the last bytes cannot both pass.
   */
  async reserve(size: number): Promise<() => void> {
    if (size > this.opts.maxFileBytes) {
      throw new DataApiError('PAYLOAD_TOO_LARGE', `${size} bytes is over this node's limit of ${this.opts.maxFileBytes} bytes per file`, { sizeBytes: size, maxFileBytes: this.opts.maxFileBytes });
    }
    const u = await this.usage();
    if (size > u.freeBytes) {
      throw new DataApiError('NODE_FULL', `node ${this.opts.node} is full: ${size} bytes requested, ${u.freeBytes} free of ${u.capacityBytes} (${u.bytes} used, ${u.reservedBytes} reserved)`, {
        node: this.opts.node,
        requestedBytes: size,
        freeBytes: u.freeBytes,
        capacityBytes: u.capacityBytes,
        usedBytes: u.bytes,
        reservedBytes: u.reservedBytes,
      });
    }
    return this.index.reserve(size);
  }

  /** Size, checksum and mtime of a stored file (hashed once, then cached), or null. */
  async stat(name: string): Promise<TFileEntry | null> {
    const opened = await this.openRead(name);
    if (!opened) return null;
    await opened.fh.close();
    return opened.entry;
  }

  /**
   * Opens a stored file for reading, never through a symlink. The checksum belongs to the opened file (fstat
   * of the handle), so a concurrent delete or re-put of the name cannot pair one file's bytes with another's ETag.
   */
  async openRead(name: string): Promise<{ fh: FileHandle; entry: TFileEntry } | null> {
    const full = this.pathOf(name);
    let fh: FileHandle;
    try {
      fh = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (['ENOENT', 'ELOOP', 'ENOTDIR'].includes(errnoOf(err) ?? '')) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        return null;
      }
      const id = identity(st);
      let sha256 = this.index.cachedSha(name, id);
      if (sha256 === null) {
        sha256 = await hashHandle(fh);
        this.index.record(name, id, sha256);
      }
      return { fh, entry: { name, sizeBytes: st.size, sha256, modifiedAt: st.mtime.toISOString() } };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Streams `source` into a `.part` file and publishes it under `name` only if exactly `sizeBytes` bytes came and
   * they hash to `sha256`. The same content already under that name is success (created: false), so a retried
   * put or pull succeeds; different content is CONFLICT. Any failure removes the `.part` file.
   */
  async writeVerified(name: string, source: AsyncIterable<Uint8Array>, want: WriteExpectation): Promise<{ created: boolean }> {
    const finalPath = this.pathOf(name);
    const tempPath = path.join(this.dir, `.${name}.${randomBytes(5).toString('hex')}${TEMP_SUFFIX}`);
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
          if (size > want.sizeBytes) throw new DataApiError('LENGTH_MISMATCH', `more than the declared ${want.sizeBytes} bytes arrived`, { expected: want.sizeBytes });
          hash.update(chunk);
          await writeAll(fh, chunk);
        }
      } catch (err) {
        if (isDataApiError(err) || errnoOf(err) === 'ENOSPC') throw err;
        // The sender went away or broke off: a truncated body is a length problem, whatever the socket said.
        throw new DataApiError('LENGTH_MISMATCH', `the body broke off after ${size} of ${want.sizeBytes} bytes: ${(err as Error).message}`, { expected: want.sizeBytes, received: size }, { cause: err });
      }
      if (size !== want.sizeBytes) throw new DataApiError('LENGTH_MISMATCH', `${size} bytes arrived, ${want.sizeBytes} were declared`, { expected: want.sizeBytes, received: size });
      const sha256 = hash.digest('hex');
      if (sha256 !== want.sha256) throw new DataApiError('CHECKSUM_MISMATCH', `content hashes to ${sha256}, ${want.sha256} was declared`, { expected: want.sha256, actual: sha256 });
      await fh.sync();
      await fh.close();
      fh = undefined;
      const created = await this.publish(tempPath, finalPath, name, want);
      if (created) {
        await syncDir(this.dir);
        // Identity after publishing: link() and unlink() of the temp name change nothing the cache keys on.
        this.index.record(name, identity(await lstat(finalPath)), sha256);
      }
      return { created };
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await rm(tempPath, { force: true }).catch(() => undefined);
      if (errnoOf(err) === 'ENOSPC') throw new DataApiError('NODE_FULL', `node ${this.opts.node}: the filesystem ran out of space`, { node: this.opts.node }, { cause: err });
      throw err;
    }
  }

  /** Returns true if `name` was deleted, false if it was not there. `ifSha256` deletes only that content. */
  async remove(name: string, ifSha256?: string): Promise<boolean> {
    const full = this.pathOf(name);
    if (ifSha256 !== undefined) {
      const current = await this.stat(name);
      if (current === null) return false;
      if (current.sha256 !== ifSha256) throw new DataApiError('PRECONDITION_FAILED', `${name} holds ${current.sha256}, not ${ifSha256}`, { name, sha256: current.sha256 });
    }
    try {
      await unlink(full);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') {
        this.index.forget(name);
        return false;
      }
      throw err;
    }
    this.index.forget(name);
    await syncDir(this.dir);
    return true;
  }

  /** One page of stored files sorted by name (UTF-16 code unit order), with checksums. */
  async list(after: string | null, limit: number): Promise<{ files: TFileEntry[]; next: string | null }> {
    // The directory, not the index, is the truth for a listing: exact even while other writers share the folder.
    const names = (await readdir(this.dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && fileNameProblem(e.name) === null && (after === null || e.name > after))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = names.slice(0, limit);
    const files: TFileEntry[] = [];
    for (let i = 0; i < page.length; i += STAT_BATCH) {
      const got = await Promise.all(page.slice(i, i + STAT_BATCH).map((n) => this.stat(n)));
      for (const f of got) if (f) files.push(f); // gone since the readdir: simply not listed
    }
    return { files, next: names.length > limit ? (page[page.length - 1] ?? null) : null };
  }

  /**
   * Gives the temp file its final name without ever replacing one: link() fails with EEXIST where rename() would
   * overwrite. EEXIST with the same content is an idempotent success; filesystems without hard links fall back
   * to check-then-rename.
   */
  private async publish(tempPath: string, finalPath: string, name: string, want: WriteExpectation): Promise<boolean> {
    try {
      await link(tempPath, finalPath);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'EEXIST') {
        await this.assertSameContent(name, want);
        await unlink(tempPath);
        return false;
      }
      if (code === undefined || !NO_HARDLINK.has(code)) throw err;
      if (await this.stat(name)) {
        await this.assertSameContent(name, want);
        await unlink(tempPath);
        return false;
      }
      await rename(tempPath, finalPath);
      return true;
    }
    await unlink(tempPath);
    return true;
  }

  /** Passes when `name` holds exactly the expected content; CONFLICT otherwise. */
  async assertSameContent(name: string, want: { sha256: string; sizeBytes: number }): Promise<void> {
    const current = await this.stat(name);
    if (current && current.sha256 === want.sha256 && current.sizeBytes === want.sizeBytes) return;
    throw new DataApiError('CONFLICT', `${JSON.stringify(name)} already exists with different content`, {
      name,
      ...(current ? { sha256: current.sha256, sizeBytes: current.sizeBytes } : {}),
    });
  }
}
