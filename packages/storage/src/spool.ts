/**
 * A body whose length and SHA-256 must be known before it is sent: an agent's put declares both (it checks its
 * capacity before reading a byte, and the checksum before the file becomes visible), while an upload or a generated
 * demo file learns them only at its end. The spool reads the source once, hashing and counting; small bodies stay in
 * memory, larger ones go to a temp file of the control plane's own (never a node's folder), removed when disposed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';

import { AppError, isAppError } from '@zkha/core';

/** Bodies up to this size are kept in memory: a demo file or a small upload never touches the local disk. */
export const SPOOL_MEMORY_BYTES = 1024 * 1024;

export interface SpooledBody {
  sizeBytes: number;
  sha256: string;
  /** The bytes again, as many times as asked (a put may be retried). */
  body(): Uint8Array | Readable;
  dispose(): Promise<void>;
}

export interface SpoolOptions {
  /** Over this many bytes the source is abandoned with PAYLOAD_TOO_LARGE. */
  maxBytes: number;
  /** When given, other content fails with CHECKSUM_MISMATCH. */
  expectedSha256?: string;
  signal?: AbortSignal;
  /** Where larger bodies are written (default: the OS temp folder). */
  dir?: string;
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new AppError('BAD_INPUT', 'upload stream yielded something other than bytes');
}

/** Reads `source` to its end (or its first problem), then offers its bytes with their length and checksum. */
export async function spool(source: AsyncIterable<unknown> | Readable, opts: SpoolOptions): Promise<SpooledBody> {
  const { maxBytes, signal } = opts;
  if (!(maxBytes >= 0)) throw new AppError('BAD_INPUT', `maxBytes must be a non-negative number, got ${maxBytes}`);
  const hash = createHash('sha256');
  let size = 0;
  let parts: Uint8Array[] = [];
  let file: { path: string; fh: FileHandle | null } | null = null;
  const cleanup = async () => {
    await file?.fh?.close().catch(() => undefined);
    if (file) await rm(file.path, { force: true }).catch(() => undefined);
  };
  try {
    signal?.throwIfAborted();
    try {
      for await (const raw of source as AsyncIterable<unknown>) {
        signal?.throwIfAborted();
        const chunk = toBytes(raw);
        size += chunk.byteLength;
        if (size > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `upload exceeds the limit of ${maxBytes} bytes`, { maxBytes });
        hash.update(chunk);
        if (!file && size > SPOOL_MEMORY_BYTES) {
          const dir = opts.dir ?? path.join(tmpdir(), 'zkha-spool');
          await mkdir(dir, { recursive: true });
          file = { path: path.join(dir, `${randomBytes(8).toString('hex')}.part`), fh: null };
          file.fh = await open(file.path, 'wx', 0o600);
          for (const p of parts) await file.fh.write(p);
          parts = [];
        }
        if (file) await file.fh!.write(chunk);
        else parts.push(chunk);
      }
    } catch (err) {
      if (isAppError(err)) throw err;
      if (signal?.aborted) throw new AppError('BAD_INPUT', 'upload aborted', undefined, { cause: err });
      // Anything else thrown while reading is the source failing (client gone, truncated body).
      throw new AppError('BAD_INPUT', `upload stream failed before completing: ${(err as Error)?.message ?? err}`, undefined, {
        cause: err,
      });
    }
    const sha256 = hash.digest('hex');
    const want = opts.expectedSha256?.trim().toLowerCase();
    if (want !== undefined && want !== sha256) {
      throw new AppError('CHECKSUM_MISMATCH', `content hash ${sha256} does not match the expected ${opts.expectedSha256}`, {
        expected: opts.expectedSha256,
        actual: sha256,
      });
    }
    if (file) {
      await file.fh!.close();
      file.fh = null;
      const p = file.path;
      return { sizeBytes: size, sha256, body: () => createReadStream(p, { highWaterMark: 256 * 1024 }), dispose: cleanup };
    }
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    return { sizeBytes: size, sha256, body: () => bytes, dispose: async () => undefined };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
