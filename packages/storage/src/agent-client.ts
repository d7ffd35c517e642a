/**
 * The client of a storage agent's data API (served by packages/agent's data-server.ts). node:http rather than
 * fetch: a put must send an exact Content-Length with a streamed body and may wait for `100 Continue`, so a
 * refused put (no room, name taken, bad token) costs a round trip, not the upload. One keep-alive pool per
 * client, so a batch of small requests does not pay a TCP handshake each.
 */
import { once } from 'node:events';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

import { FrameReader } from './agent-frames.ts';
import {
  AGENT_API_PREFIX,
  DELETE_FILES_PATH,
  filePath,
  isAgentErrorCode,
  MTIME_HEADER,
  PULLS_PATH,
  READ_FILES_PATH,
  SHA256_HEADER,
  type TAgentErrorCode,
  type TDeleteResult,
  type TFileEntry,
  type TFileFailure,
  type TFileRef,
  type TFilePage,
  type TPullFile,
  type TPullProgress,
  type TPullResult,
  type TPullSource,
  type TPutResult,
  type TUsage,
} from './agent-protocol.ts';

export * from './agent-protocol.ts';
export * from './agent-frames.ts';

/** UNREACHABLE: no answer at all (refused, reset, timed out); the other codes are the agent's own. */
export type TAgentClientErrorCode = TAgentErrorCode | 'UNREACHABLE';

/** An error answered by an agent (its code, status and details), or UNREACHABLE with status 0. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: TAgentClientErrorCode,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAgentError(err: unknown, code?: TAgentClientErrorCode): err is AgentError {
  return err instanceof AgentError && (code === undefined || err.code === code);
}

export interface AgentClientOptions {
  /** Base URL of the agent, as advertised in its alive znode (`dataUrl`). */
  url: string;
  token: string;
  /** A socket silent this long fails the request (UNREACHABLE); default 60 s. Pulls wait without limit. */
  idleTimeoutMs?: number;
  /** Connections kept to this agent; default 16. */
  maxSockets?: number;
}

export type TPutBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** A download: the body stream, plus what the agent said about it. */
export type AgentReadStream = Readable & {
  /** 206 for a range. */
  status: number;
  /** Bytes in this response (the range's length for a range). */
  sizeBytes: number;
  /** The whole file's size. */
  totalBytes: number;
  sha256: string;
  modifiedAt: string;
};

/** One file of a readMany answer; a served file's body must be read (or left) before the next item is asked for. */
export type TReadManyItem = ({ ok: true; body: AsyncIterable<Uint8Array> } & TFileEntry) | TFileFailure;

/** Inclusive byte offsets, as in HTTP: { start: 0, end: 99 } is the first 100 bytes; no end = to the end. */
export interface TByteRange {
  start: number;
  end?: number;
}

interface SendOptions {
  headers?: Record<string, string | number>;
  body?: TPutBody;
  /** Declared body length, checked against what the body yields. */
  bodyBytes?: number;
  expectContinue?: boolean;
  signal?: AbortSignal | undefined;
  idleTimeoutMs?: number;
}

const FREE_SOCKET_TIMEOUT_MS = 4_000;
const RETRYABLE_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

/** Bodies above this wait for `100 Continue`, so a refusal does not cost the upload. Below, the round trip costs more. */
const EXPECT_CONTINUE_ABOVE = 256 * 1024;

async function readText(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const c of res) text += String(c);
  return text;
}

async function errorOf(res: IncomingMessage): Promise<AgentError> {
  const text = await readText(res).catch(() => '');
  let body: { code?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // HEAD answers have no body: the code travels in a header
  }
  const status = res.statusCode ?? 0;
  const fromHeader = res.headers['x-zkha-error'];
  const code = isAgentErrorCode(body.code)
    ? body.code
    : isAgentErrorCode(fromHeader)
      ? fromHeader
      : status === 401
        ? 'UNAUTHORIZED'
        : status === 404
          ? 'NOT_FOUND'
          : 'INTERNAL';
  const message = typeof body.message === 'string' ? body.message : `agent answered ${status} ${code}`;
  const details = typeof body.details === 'object' && body.details !== null ? (body.details as Record<string, unknown>) : undefined;
  return new AgentError(code, status, message, details);
}

/** Writes `src` to `req`, honouring backpressure, and fails LENGTH_MISMATCH unless exactly `size` bytes come. */
async function pump(
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  req: ClientRequest,
  size: number,
  answered: () => boolean,
): Promise<void> {
  let n = 0;
  for await (const chunk of src) {
    if (answered() || req.destroyed) return; // refused early (the rest is not wanted), or the request died
    n += chunk.byteLength;
    if (n > size) throw new AgentError('LENGTH_MISMATCH', 0, `the body is longer than the declared ${size} bytes`);
    if (!req.write(chunk)) {
      // Wait for drain, or for the request to die (then drain never comes); drop the loser's listener.
      const ac = new AbortController();
      await Promise.race([once(req, 'drain', { signal: ac.signal }), once(req, 'close', { signal: ac.signal })]).catch(() => undefined);
      ac.abort();
    }
  }
  if (n !== size) throw new AgentError('LENGTH_MISMATCH', 0, `the body ended after ${n} of the declared ${size} bytes`);
  req.end();
}

export class AgentClient {
  private readonly base: URL;
  private readonly pool: http.Agent;

  constructor(private readonly opts: AgentClientOptions) {
    this.base = new URL(opts.url);
    const Pool = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    // Idle sockets are dropped before the agent's keep-alive timeout (10 s) would close them under us.
    this.pool = new Pool({ keepAlive: true, maxSockets: opts.maxSockets ?? 16, timeout: FREE_SOCKET_TIMEOUT_MS });
  }

  get url(): string {
    return this.base.origin;
  }

  /**
   * Stores `body` as `name`: visible only once all `sizeBytes` bytes arrived and hash to `sha256`. Putting the
   * same content again succeeds (created: false); other content under the name fails with CONFLICT.
   */
  async put(name: string, body: TPutBody, opts: { sha256: string; sizeBytes: number; signal?: AbortSignal }): Promise<TPutResult> {
    if (body instanceof Uint8Array && body.byteLength !== opts.sizeBytes) {
      throw new AgentError('LENGTH_MISMATCH', 0, `the body has ${body.byteLength} bytes, ${opts.sizeBytes} were declared`);
    }
    const res = await this.send('PUT', filePath(name), {
      headers: { [SHA256_HEADER]: opts.sha256, 'content-length': opts.sizeBytes, 'content-type': 'application/octet-stream' },
      body,
      bodyBytes: opts.sizeBytes,
      expectContinue: opts.sizeBytes > EXPECT_CONTINUE_ABOVE,
      signal: opts.signal,
    });
    return this.json<TPutResult>(res);
  }

  /** Streams a file, or one range of it. The caller must consume or destroy the stream. */
  async get(name: string, range?: TByteRange, opts: { signal?: AbortSignal } = {}): Promise<AgentReadStream> {
    const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end ?? ''}` } : {};
    const res = await this.send('GET', filePath(name), { headers, signal: opts.signal });
    if (res.statusCode !== 200 && res.statusCode !== 206) throw await errorOf(res);
    const sizeBytes = Number(res.headers['content-length']);
    const total = res.statusCode === 206 ? Number(String(res.headers['content-range']).split('/')[1]) : sizeBytes;
    return Object.assign(res as Readable, {
      status: res.statusCode,
      sizeBytes,
      totalBytes: total,
      sha256: String(res.headers[SHA256_HEADER]),
      modifiedAt: String(res.headers[MTIME_HEADER]),
    });
  }

  /** Size, SHA-256 and mtime (HEAD); NOT_FOUND when absent. */
  async stat(name: string): Promise<TFileEntry> {
    const res = await this.send('HEAD', filePath(name));
    if (res.statusCode !== 200) throw await errorOf(res);
    res.resume();
    return {
      name,
      sizeBytes: Number(res.headers['content-length']),
      sha256: String(res.headers[SHA256_HEADER]),
      modifiedAt: String(res.headers[MTIME_HEADER]),
    };
  }

  /**
   * Deletes `name`; true if it was there, false if not (a retry is not an error). With `ifSha256` only that
   * content is deleted, otherwise PRECONDITION_FAILED: a move deletes exactly the copy it verified.
   */
  async delete(name: string, opts: { ifSha256?: string } = {}): Promise<boolean> {
    const headers: Record<string, string> = opts.ifSha256 ? { 'if-match': `"${opts.ifSha256}"` } : {};
    return (await this.json<{ deleted: boolean }>(await this.send('DELETE', filePath(name), { headers }))).deleted;
  }

  /**
   * Deletes many files in one request (and one directory sync): one result per file, in order. A file given with
   * `ifSha256` is deleted only if it holds that content (PRECONDITION_FAILED otherwise); absent is `deleted: false`.
   */
  async deleteMany(files: readonly { name: string; ifSha256?: string }[]): Promise<TDeleteResult> {
    const payload = Buffer.from(
      JSON.stringify({ files: files.map((f): TFileRef => (f.ifSha256 ? { name: f.name, sha256: f.ifSha256 } : { name: f.name })) }),
    );
    return this.json<TDeleteResult>(
      await this.send('POST', DELETE_FILES_PATH, {
        headers: { 'content-type': 'application/json', 'content-length': payload.byteLength },
        body: payload,
      }),
    );
  }

  /**
   * Streams many files in one response (POST /v1/files:read), one item per file in request order. A file given with
   * `sha256` is served only if it holds that content (CHECKSUM_MISMATCH otherwise). A stream cut off midway throws
   * FrameStreamError; each body is the agent's bytes, to be verified by whoever keeps them.
   */
  async *readMany(files: readonly TFileRef[], opts: { signal?: AbortSignal } = {}): AsyncGenerator<TReadManyItem> {
    const payload = Buffer.from(JSON.stringify({ files }));
    const res = await this.send('POST', READ_FILES_PATH, {
      headers: { 'content-type': 'application/json', 'content-length': payload.byteLength },
      body: payload,
      signal: opts.signal,
    });
    if (res.statusCode !== 200) throw await errorOf(res);
    const frames = new FrameReader(res);
    try {
      for (;;) {
        const h = await frames.next();
        if ('end' in h) return await frames.finish();
        yield h.ok ? { ...h, body: frames.body() } : h;
      }
    } finally {
      await frames.close();
    }
  }

  /** One page of files sorted by name, after `after`; `next` feeds the following call. */
  async list(after?: string | null, limit?: number): Promise<TFilePage> {
    const q = new URLSearchParams();
    if (after) q.set('after', after);
    if (limit !== undefined) q.set('limit', String(limit));
    const qs = q.size > 0 ? `?${q.toString()}` : '';
    return this.json<TFilePage>(await this.send('GET', `${AGENT_API_PREFIX}/files${qs}`));
  }

  /** Every file, page by page. */
  async *listAll(pageSize?: number): AsyncGenerator<TFileEntry> {
    let after: string | null = null;
    do {
      const page: TFilePage = await this.list(after, pageSize);
      yield* page.files;
      after = page.next;
    } while (after !== null);
  }

  async usage(): Promise<TUsage> {
    return this.json<TUsage>(await this.send('GET', `${AGENT_API_PREFIX}/usage`));
  }

  /**
   * Has this agent fetch `files` from `source` (another agent, or its URL and token), verifying each before it
   * becomes visible; one result per file, in order. `bytesPerSec` caps this agent's inbound rate while the batch
   * runs (shared with its other capped pulls: the cap is the node's). `link` allows the same-host fast path
   * (TPullRequest.link).
   */
  async pull(
    source: AgentClient | TPullSource,
    files: readonly TPullFile[],
    opts: { bytesPerSec?: number | null; concurrency?: number; link?: boolean; id?: string; signal?: AbortSignal } = {},
  ): Promise<TPullResult> {
    const src = source instanceof AgentClient ? { url: source.url, token: source.opts.token } : source;
    const payload = JSON.stringify({
      source: src,
      files,
      bytesPerSec: opts.bytesPerSec ?? null,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.link ? { link: true } : {}),
      ...(opts.id ? { id: opts.id } : {}),
    });
    const res = await this.send('POST', `${AGENT_API_PREFIX}/pull`, {
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      body: Buffer.from(payload),
      signal: opts.signal,
      idleTimeoutMs: 0, // the agent answers when the whole batch is done
    });
    return this.json<TPullResult>(res);
  }

  /** How far the pull named `id` got on this agent while it runs; null once it has answered (or before it starts). */
  async pullProgress(id: string): Promise<TPullProgress | null> {
    try {
      return await this.json<TPullProgress>(await this.send('GET', `${PULLS_PATH}/${encodeURIComponent(id)}`));
    } catch (err) {
      if (isAgentError(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.pool.destroy();
  }

  private async json<T>(res: IncomingMessage): Promise<T> {
    if ((res.statusCode ?? 0) >= 300) throw await errorOf(res);
    return JSON.parse(await readText(res)) as T;
  }

  /**
   * One request. A kept-alive socket can be closed by the agent just as it is reused (the race every keep-alive
   * client has); then the request is sent once more on a fresh socket, if its body can be replayed. Every route
   * is idempotent (a put or pull of the same content succeeds again), so a replay cannot do anything twice.
   */
  private async send(method: string, path: string, o: SendOptions = {}): Promise<IncomingMessage> {
    try {
      return await this.sendOnce(method, path, o);
    } catch (err) {
      const replayable = o.body === undefined || o.body instanceof Uint8Array;
      const cause = (err as AgentError).cause as (Error & { code?: string; reusedSocket?: boolean }) | undefined;
      if (!replayable || !cause?.reusedSocket || !RETRYABLE_SOCKET_ERRORS.has(cause.code ?? '')) throw err;
      return this.sendOnce(method, path, o);
    }
  }

  private sendOnce(method: string, path: string, o: SendOptions): Promise<IncomingMessage> {
    const mod = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(new URL(path, this.base), {
        method,
        agent: this.pool,
        headers: { authorization: `Bearer ${this.opts.token}`, ...o.headers, ...(o.expectContinue ? { expect: '100-continue' } : {}) },
        ...(o.signal ? { signal: o.signal } : {}),
        timeout: o.idleTimeoutMs ?? this.opts.idleTimeoutMs ?? 60_000,
      });
      let answered = false;
      let bodySent = o.body === undefined;
      req.once('timeout', () => req.destroy(new Error('the agent did not answer in time')));
      req.once('error', (err) => {
        if (isAgentError(err)) return reject(err);
        reject(
          new AgentError('UNREACHABLE', 0, `${method} ${this.base.origin}${path}: ${err.message}`, undefined, {
            cause: Object.assign(err, { reusedSocket: req.reusedSocket }),
          }),
        );
      });
      req.once('response', (res) => {
        answered = true;
        // Answered before the whole body went out (a refusal): this connection is mid-request, do not reuse it.
        res.once('end', () => {
          if (!bodySent) req.destroy();
        });
        resolve(res);
      });
      const writeBody = () => {
        const body = o.body;
        if (body === undefined) return void req.end();
        const src: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = body instanceof Uint8Array ? [body] : body;
        pump(src, req, o.bodyBytes ?? (body instanceof Uint8Array ? body.byteLength : 0), () => answered).then(
          () => {
            bodySent = !answered;
          },
          (err: unknown) => req.destroy(err as Error),
        );
      };
      if (o.expectContinue) req.once('continue', writeBody);
      else writeBody();
    });
  }
}
