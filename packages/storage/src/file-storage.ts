/**
 * The storage port: the one way the control plane reaches a file's bytes. A file is named by its node and its
 * name; the bytes live with that node's storage agent, reached over its data API (agent-client.ts). Nothing here
 * opens a node's folder: a node may be another host.
 */
import { randomBytes, randomFill } from 'node:crypto';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

import { AppError, isAppError, type TAppErrorCode } from '@zkha/core';

import { AgentClient, AgentError, isAgentError, type AgentReadStream, type TByteRange } from './agent-client.ts';
import type { TAgentErrorCode, TDeleteFileResult, TFileEntry, TPullFile, TPullProgress, TPullResult, TUsage } from './agent-protocol.ts';
import { fileNameProblem } from './names.ts';
import { spool } from './spool.ts';

const randomFillAsync = promisify(randomFill);
const CHUNK_BYTES = 1024 * 1024;

/**
 * Where a file lives, as one string: `<node>/<name>`. It is the `path` of a file's database row and znode, and
 * the journal's source and target of a move. Node and file names hold no `/` (names.ts), so it splits one way.
 */
export function locationOf(node: string, name: string): string {
  return `${node}/${name}`;
}

/** The node and name of a location, or null when it is not one. */
export function parseLocation(location: string): { node: string; name: string } | null {
  const at = location.indexOf('/');
  if (at <= 0 || at === location.length - 1 || location.indexOf('/', at + 1) >= 0) return null;
  return { node: location.slice(0, at), name: location.slice(at + 1) };
}

/** What a write produced: enough to create the file's database record. */
export interface StoredFile {
  node: string;
  name: string;
  /** locationOf(node, name). */
  path: string;
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
}

export interface SaveUploadOptions {
  /** The upload is refused (PAYLOAD_TOO_LARGE) as soon as it passes this many bytes. */
  maxBytes: number;
  /** When given, a different content hash fails the upload with CHECKSUM_MISMATCH. */
  expectedSha256?: string;
  signal?: AbortSignal;
}

export type UploadSource = AsyncIterable<Uint8Array> | Readable;

export interface PullOptions {
  /** The node's bandwidth cap for this batch, bytes per second; null = none. */
  bytesPerSec: number | null;
  /** Allow the agents' same-host fast path (hard links when both see one filesystem). */
  link: boolean;
  /** Names the pull, so pullProgress can follow it while it runs. */
  id?: string;
  signal?: AbortSignal;
}

export interface FileStoragePort {
  /** Streams a new file to `node`. The name taken (whatever its content): CONFLICT. */
  saveUpload(node: string, name: string, source: UploadSource, options: SaveUploadOptions): Promise<StoredFile>;
  /** Writes `sizeBytes` random bytes to a new file (`demo-<id>.bin` unless named) on `node`. */
  createDemoFile(node: string, sizeBytes: number, name?: string): Promise<StoredFile>;
  /** Streams a file, or a range of it; FILE_NOT_FOUND when absent. The caller consumes or destroys the stream. */
  read(node: string, name: string, range?: TByteRange): Promise<AgentReadStream>;
  /** Size, checksum and mtime, or null when absent. */
  stat(node: string, name: string): Promise<TFileEntry | null>;
  /** Removes a file (only that content with `ifSha256`); false when it was not there. */
  deleteFile(node: string, name: string, opts?: { ifSha256?: string }): Promise<boolean>;
  /** Removes many files of one node in one request; a result per file, in order. */
  deleteMany(node: string, files: readonly { name: string; ifSha256?: string }[]): Promise<TDeleteFileResult[]>;
  /** Every file of a node with its checksum, sorted by name. */
  listNodeFiles(node: string): Promise<TFileEntry[]>;
  /** The node's own figures: files, bytes, capacity, free space, traffic. */
  usage(node: string): Promise<TUsage>;
  /** Has `target` fetch `files` from `source`, each verified before it is visible there; a result per file. */
  pull(target: string, source: string, files: readonly TPullFile[], opts: PullOptions): Promise<TPullResult>;
  /** How far a pull started with `id` got on `target`; null when it is not running (not yet, or answered). */
  pullProgress(target: string, id: string): Promise<TPullProgress | null>;
}

/** Where a node's agent serves its data API now (its alive znode's `dataUrl`), or null when it is not registered. */
export type AgentEndpoint = (node: string) => string | null | Promise<string | null>;

export interface AgentStorageOptions {
  /** The bearer token every agent takes (the control plane's copy of it). */
  token: string;
  endpoint: AgentEndpoint;
  /** Drops a cached endpoint of a node whose agent did not answer, so the next lookup is fresh (a restarted agent). */
  forget?: (node: string) => void;
  /** Where uploads larger than a MiB wait while their checksum is computed (default: the OS temp folder). */
  spoolDir?: string;
}

/** Agent codes as the control plane's: what each means to a caller of the port. */
const APP_CODE_OF: Record<TAgentErrorCode | 'UNREACHABLE', TAppErrorCode> = {
  BAD_INPUT: 'BAD_INPUT',
  UNAUTHORIZED: 'STORAGE_ERROR', // the control plane's token is not the agent's: a configuration error, not the caller's
  NOT_FOUND: 'FILE_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'STORAGE_ERROR',
  CONFLICT: 'CONFLICT',
  LENGTH_REQUIRED: 'STORAGE_ERROR',
  PRECONDITION_FAILED: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RANGE_NOT_SATISFIABLE: 'BAD_INPUT',
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  LENGTH_MISMATCH: 'BAD_INPUT',
  INTERNAL: 'STORAGE_ERROR',
  SOURCE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  NODE_FULL: 'NODE_FULL',
  UNREACHABLE: 'STORAGE_UNAVAILABLE',
};

/** An agent's error as an AppError naming the node, with the agent's code kept in the details. */
export function appErrorOf(err: unknown, node: string): unknown {
  if (!isAgentError(err)) return err;
  const code = APP_CODE_OF[err.code];
  const message =
    err.code === 'UNREACHABLE'
      ? `the storage agent of ${node} does not answer: ${err.message}`
      : err.code === 'UNAUTHORIZED'
        ? `the storage agent of ${node} refused the control plane's token (AGENT_TOKEN differs from the agent's)`
        : err.message;
  return new AppError(code, message, { ...err.details, node, agentCode: err.code }, { cause: err });
}

/**
 * The port over the agents' data API. Clients are kept per URL (each holds a keep-alive pool); a node whose agent
 * moved to another address is reached at the new one as soon as its alive znode says so.
 */
export class AgentStorage implements FileStoragePort {
  private readonly clients = new Map<string, AgentClient>();

  constructor(private readonly opts: AgentStorageOptions) {}

  /** The client of a node's agent; STORAGE_UNAVAILABLE when it has not registered a data API. */
  async client(node: string): Promise<AgentClient> {
    const url = await this.opts.endpoint(node);
    if (!url)
      throw new AppError(
        'STORAGE_UNAVAILABLE',
        `the storage agent of ${node} is not registered (no alive znode with a dataUrl): is it running?`,
        { node },
      );
    let c = this.clients.get(url);
    if (!c) this.clients.set(url, (c = new AgentClient({ url, token: this.opts.token })));
    return c;
  }

  async saveUpload(node: string, name: string, source: UploadSource, options: SaveUploadOptions): Promise<StoredFile> {
    assertName(name);
    const agent = await this.client(node);
    // Refused before the upload is read when the name is taken: an agent takes the same content again as a
    // retried put, but a second upload under a name is a conflict whatever its bytes.
    if (await this.stat(node, name)) throw conflict(node, name);
    const body = await spool(source as AsyncIterable<unknown>, { ...options, ...(this.opts.spoolDir ? { dir: this.opts.spoolDir } : {}) });
    try {
      const put = await agent
        .put(name, body.body(), { sha256: body.sha256, sizeBytes: body.sizeBytes, ...(options.signal ? { signal: options.signal } : {}) })
        .catch((err: unknown) => {
          throw appErrorOf(err, node);
        });
      if (!put.created) throw conflict(node, name);
      return { node, name, path: locationOf(node, name), sizeBytes: put.sizeBytes, sha256: put.sha256 };
    } finally {
      await body.dispose();
    }
  }

  async createDemoFile(node: string, sizeBytes: number, name?: string): Promise<StoredFile> {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0)
      throw new AppError('BAD_INPUT', `sizeBytes must be a non-negative integer, got ${sizeBytes}`);
    const random = async function* (): AsyncGenerator<Uint8Array> {
      for (let left = sizeBytes; left > 0;) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, left));
        await randomFillAsync(chunk);
        left -= chunk.byteLength;
        yield chunk;
      }
    };
    if (name !== undefined) return this.saveUpload(node, name, random(), { maxBytes: sizeBytes });
    // Generated names collide only by chance; retry rather than surface a CONFLICT the caller did not cause.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.saveUpload(node, `demo-${randomBytes(5).toString('hex')}.bin`, random(), { maxBytes: sizeBytes });
      } catch (err) {
        if (!(isAppError(err) && err.code === 'CONFLICT') || attempt >= 4) throw err;
      }
    }
  }

  async read(node: string, name: string, range?: TByteRange): Promise<AgentReadStream> {
    return this.call(node, (c) => c.get(name, range));
  }

  async stat(node: string, name: string): Promise<TFileEntry | null> {
    try {
      return await this.call(node, (c) => c.stat(name));
    } catch (err) {
      if (isAppError(err) && err.code === 'FILE_NOT_FOUND') return null;
      throw err;
    }
  }

  async deleteFile(node: string, name: string, opts: { ifSha256?: string } = {}): Promise<boolean> {
    return this.call(node, (c) => c.delete(name, opts));
  }

  async deleteMany(node: string, files: readonly { name: string; ifSha256?: string }[]): Promise<TDeleteFileResult[]> {
    if (files.length === 0) return [];
    return (await this.call(node, (c) => c.deleteMany(files))).results;
  }

  async listNodeFiles(node: string): Promise<TFileEntry[]> {
    return this.call(node, async (c) => {
      const out: TFileEntry[] = [];
      for await (const f of c.listAll()) out.push(f);
      return out;
    });
  }

  async usage(node: string): Promise<TUsage> {
    return this.call(node, (c) => c.usage());
  }

  async pull(target: string, source: string, files: readonly TPullFile[], opts: PullOptions): Promise<TPullResult> {
    const from = await this.client(source);
    return this.call(target, (c) =>
      c.pull(from, files, {
        bytesPerSec: opts.bytesPerSec,
        link: opts.link,
        ...(opts.id ? { id: opts.id } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    );
  }

  async pullProgress(target: string, id: string): Promise<TPullProgress | null> {
    return this.call(target, (c) => c.pullProgress(id));
  }

  /** Closes every kept-alive connection. */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  /**
   * One call to a node's agent. An agent that does not answer may have restarted elsewhere (a new port, another
   * host) before its old alive znode's watch told us: the endpoint is looked up afresh and, if it moved, the call is
   * made once more there. Every route is idempotent, so a call that reached the old agent cannot be done twice.
   */
  private async call<T>(node: string, fn: (c: AgentClient) => Promise<T>): Promise<T> {
    const c = await this.client(node);
    try {
      return await fn(c);
    } catch (err) {
      if (!isAgentError(err, 'UNREACHABLE') || !this.opts.forget) throw appErrorOf(err, node);
      this.opts.forget(node);
      const again = await this.client(node).catch(() => null);
      if (!again || again === c) throw appErrorOf(err, node);
      try {
        return await fn(again);
      } catch (retryErr) {
        throw appErrorOf(retryErr, node);
      }
    }
  }
}

function assertName(name: string): void {
  const problem = fileNameProblem(name);
  if (problem !== null) throw new AppError('INVALID_PATH', `file name ${JSON.stringify(name)} is unusable: ${problem}`, { name });
}

function conflict(node: string, name: string): AppError {
  return new AppError('CONFLICT', `a file named ${JSON.stringify(name)} already exists on ${node}`, { node, name });
}

export { AgentError };
