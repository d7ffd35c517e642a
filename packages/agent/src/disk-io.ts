/**
 * The agent's disk primitives: how bytes reach the disk and become durable (writes, hashes, directory fsync,
 * group commits of syncs), how small files are read without touching their access time, and how synchronous work
 * hands the event loop back. AgentFolder builds its writes (folder-staging.ts, folder-publishing.ts), reads and
 * deletes (folder-removal.ts) from these.
 */
import { createHash } from 'node:crypto';
import { constants, openSync, type Stats } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';

import { errnoOf } from './data-api-error.ts';
import type { FileIdentity } from './folder-index.ts';

const CHUNK = 1024 * 1024;
/**
 * Small files (multi-file reads, batched pulls and deletes) are handled with synchronous syscalls: for a file of a
 * few KiB in the page cache, the threadpool hand-off of each async fs call costs ten times the syscall itself, and
 * a move of ten thousand such files is a few hundred thousand calls. The event loop is handed back at least every
 * SLICE_MS, so other requests and the heartbeat are not held up; fsync stays asynchronous.
 */
export const SMALL_IO_BYTES = 256 * 1024;
const SLICE_MS = 4;
/** How many files' async fs calls (stat, fsync, unlink) a folder keeps in flight at once. */
export const STAT_BATCH = 64;
/** O_NOATIME where the platform has it (Linux), else nothing. */
const NOATIME = constants.O_NOATIME ?? 0;
export function identity(st: Stats): FileIdentity {
  return { size: st.size, ino: st.ino, mtimeMs: st.mtimeMs };
}

export const SYNC_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' };

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  await fh?.sync().catch(() => undefined); // some filesystems refuse to fsync a directory; the data is synced
  await fh?.close().catch(() => undefined);
}

/**
 * Group commit: run() resolves once a sync that started after the call has finished, so it covers everything the
 * caller wrote before calling. Callers arriving while one sync runs share the next one, so N concurrent batches
 * cost two syncs, not N.
 */
export class GroupCommit {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly sync: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = null;
          return this.run();
        });
      return this.queued;
    }
    this.running = this.sync().finally(() => {
      this.running = null;
    });
    return this.running;
  }
}

/** Hands the event loop back when synchronous work has held it for SLICE_MS. */
export class TimeSlice {
  private since = performance.now();

  async maybeYield(): Promise<void> {
    if (performance.now() - this.since < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

export async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.byteLength;) off += (await fh.write(bytes, off, bytes.byteLength - off)).bytesWritten;
}

export async function hashHandle(fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  // Not a whole CHUNK for a small file: hashing a folder of small files would otherwise allocate a MiB each.
  const length = Math.min(CHUNK, Math.max(4096, size + 1));
  const buf = Buffer.allocUnsafe(length);
  for (let pos = 0; ;) {
    const { bytesRead } = await fh.read(buf, 0, length, pos);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

/**
 * Opens a file for reading, never through a symlink, without updating its access time where allowed (the agent's
 * own files): under relatime the first read after a write dirties the inode, a journal entry per file read, which
 * on a source serving thousands of small files waits behind the targets' syncs. The agent never looks at atime.
 */
export function openReadSync(full: string): number {
  try {
    return openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | NOATIME);
  } catch (err) {
    if (NOATIME === 0 || errnoOf(err) !== 'EPERM') throw err;
    return openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW); // another owner's file: atime may change
  }
}

/** Identifies the running kernel: st_dev values are only comparable between processes on the same one. */
export async function kernelId(): Promise<string> {
  const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '');
  return bootId.trim() || hostname();
}
