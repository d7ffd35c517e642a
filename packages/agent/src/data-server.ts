/**
 * The storage agent's data API over HTTP: the only way, once issue 13 is wired, that anyone reaches this node's
 * bytes. Routes and codes are in @zkha/storage's agent-protocol.ts; AgentClient is the matching client.
 *
 * Plain node:http rather than Fastify (which apps/server uses): the API is seven routes whose bodies are raw
 * byte streams going to disk, where what matters is backpressure, `Expect: 100-continue` (refuse a put before its
 * body is sent) and exact control of when the body is read. Those are node:http's own primitives; Fastify would
 * add a content-type parser bypass and a dependency to an agent that may run alone on a storage host.
 *
 * This module authenticates, routes and answers; what a request asks (file name, JSON body, Range, read cap) is
 * read by data-requests.ts, the framed multi-file read is framed-read.ts, and a pull's work is pull.ts.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

import {
  AGENT_API_PREFIX,
  DEFAULT_LIST_LIMIT,
  DELETE_FILES_PATH,
  fileRefListProblem,
  MAX_LIST_LIMIT,
  MTIME_HEADER,
  normaliseSha256,
  PROBE_PATH,
  isPullId,
  PULLS_PATH,
  pullRequestProblem,
  READ_FILES_PATH,
  SHA256_HEADER,
  type TDeleteFileResult,
  type TFileEntry,
  type TFileRefList,
  type TPullProgress,
  type TPullRequest,
  type TUsage,
} from '@zkha/storage';

import { AgentFolder } from './agent-folder.ts';
import { BandwidthLimiter, RateMeter, requestBytesFor } from './bandwidth.ts';
import { DataApiError, isDataApiError } from './data-api-error.ts';
import { FILES_PREFIX, nameFrom, pace, parseRange, readCap, readJson } from './data-requests.ts';
import { readMany, type FramedReadServer } from './framed-read.ts';
import { LoadMonitor } from './load.ts';
import { pullBatch, type PullTracker } from './pull.ts';
import { bearerMatches } from './token.ts';

// Request parsing is data-requests.ts's; parseRange is still this module's export (its tests, @zkha/agent's index).
export { parseRange } from './data-requests.ts';

export interface DataServerOptions {
  node: string;
  folder: string;
  host: string;
  /** 0 = any free port (see DataServer.url for the one bound). */
  port: number;
  token: string;
  /** null = the filesystem's size. */
  capacityBytes: number | null;
  maxFileBytes: number;
  /** How often the index re-walks the folder to notice other writers (default 30 s; 0 = never). */
  rescanIntervalMs?: number;
  /** How long an idle kept-alive connection stays open (default 10 s; clients drop theirs sooner). */
  keepAliveTimeoutMs?: number;
  /** Where diagnostics go; never given a token or an Authorization header. */
  log?: (line: string) => void;
  /** The window GET /v1/usage averages traffic and takes the event-loop lag over (default 5 s; tests shorten it). */
  usageWindowMs?: number;
}

/** Pieces a file is read and written in for a GET. */
const READ_PIECE_BYTES = 256 * 1024;

/** `host:port`, `[v6]:port` → parts; throws on anything else. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65_535) throw new Error(`expected host:port, got ${JSON.stringify(value)}`);
  return { host: (m[1] ?? m[2])!, port };
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function fileHeaders(f: TFileEntry): Record<string, string> {
  return {
    etag: `"${f.sha256}"`,
    [SHA256_HEADER]: f.sha256,
    [MTIME_HEADER]: f.modifiedAt,
    'last-modified': new Date(f.modifiedAt).toUTCString(),
    'accept-ranges': 'bytes',
  };
}

/**
 * A body we did not read (a refused put, or one already stored) is not worth draining, and a client that waited
 * for `100 Continue` never sends it: close the connection after the answer rather than leave it mid-request.
 */
function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (!req.complete) res.setHeader('connection', 'close');
}

export class DataServer {
  /** Pulls running now that were given an id, for GET /v1/pulls/<id>. */
  private readonly pulls = new Map<string, { p: PullTracker; started: number }>();
  private rescanTimer: NodeJS.Timeout | null = null;
  /** The node's one inbound bandwidth cap, shared by every pull in flight (bandwidth.ts). */
  private readonly inbound = new BandwidthLimiter();
  /** The node's one outbound bandwidth cap, shared by every capped read in flight, whoever the readers are. */
  private readonly outbound = new BandwidthLimiter();
  /** File bytes received (puts, pulls) and sent (reads), for GET /v1/usage. */
  private readonly received: RateMeter;
  private readonly sent: RateMeter;
  private readonly loadMonitor: LoadMonitor;
  /** What POST /v1/files:read (framed-read.ts) uses of this server. */
  private readonly framedReads: FramedReadServer;

  private constructor(
    private readonly server: http.Server,
    readonly folder: AgentFolder,
    private readonly opts: DataServerOptions,
  ) {
    const window = opts.usageWindowMs ?? 5000;
    this.received = new RateMeter(window);
    this.sent = new RateMeter(window);
    this.loadMonitor = new LoadMonitor(window);
    this.framedReads = { node: opts.node, folder, outbound: this.outbound, sent: this.sent, log: (line) => this.log(line) };
  }

  /** Opens the folder (index, stale temp files), then listens. */
  static async start(opts: DataServerOptions): Promise<DataServer> {
    const folder = new AgentFolder({
      node: opts.node,
      dir: opts.folder,
      capacityBytes: opts.capacityBytes,
      maxFileBytes: opts.maxFileBytes,
    });
    await folder.open();
    // No whole-request timeout: a large put over a capped link may rightly take minutes. Idle sockets still close.
    const server = http.createServer({ requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: opts.keepAliveTimeoutMs ?? 10_000 });
    server.setTimeout(120_000);
    const ds = new DataServer(server, folder, opts);
    server.on('request', (req, res) => void ds.handle(req, res, false));
    // With a listener here, requests saying `Expect: 100-continue` wait for our go-ahead before sending a body.
    server.on('checkContinue', (req, res) => void ds.handle(req, res, true));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.host, port: opts.port }, () => resolve());
    }).catch((err: unknown) => {
      ds.loadMonitor.stop();
      throw err;
    });
    const every = opts.rescanIntervalMs ?? 30_000;
    if (every > 0) {
      ds.rescanTimer = setInterval(
        () => void folder.rescan().catch((err: unknown) => ds.log(`rescan of ${opts.folder} failed: ${(err as Error).message}`)),
        every,
      );
      ds.rescanTimer.unref();
    }
    return ds;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The URL bound, e.g. http://127.0.0.1:41234 (what to advertise unless told otherwise). */
  get url(): string {
    return `http://${urlHost(this.opts.host)}:${this.port}`;
  }

  async usage(): Promise<TUsage> {
    return {
      node: this.opts.node,
      ...(await this.folder.usage()),
      maxFileBytes: this.opts.maxFileBytes,
      inBytesPerSec: this.received.perSec(),
      outBytesPerSec: this.sent.perSec(),
      load: this.loadMonitor.load(),
    };
  }

  async close(): Promise<void> {
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.loadMonitor.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private async handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    try {
      // Authentication before routing: without the token nothing, not even which routes exist, is revealed.
      if (!bearerMatches(req.headers.authorization, this.opts.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        throw new DataApiError('UNAUTHORIZED', 'a valid bearer token is required');
      }
      await this.route(req, res, expectsContinue);
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    // The raw path, not `new URL(...)`: URL parsing resolves "/../" segments, which would hide an escape attempt.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const method = req.method ?? 'GET';
    const only = (...allowed: string[]) => {
      if (!allowed.includes(method)) {
        res.setHeader('allow', allowed.join(', '));
        throw new DataApiError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${rawPath}`);
      }
    };
    if (rawPath === `${AGENT_API_PREFIX}/usage`) {
      only('GET');
      return json(res, 200, await this.usage());
    }
    if (rawPath === `${AGENT_API_PREFIX}/files`) {
      only('GET');
      return this.list(res, query);
    }
    if (rawPath === PROBE_PATH) {
      only('POST');
      req.resume();
      return json(res, 200, this.folder.createProbe());
    }
    if (rawPath === READ_FILES_PATH) {
      only('POST');
      const cap = readCap(req);
      if (expectsContinue) res.writeContinue();
      return readMany(this.framedReads, req, res, cap);
    }
    if (rawPath === DELETE_FILES_PATH) {
      only('POST');
      if (expectsContinue) res.writeContinue();
      const body = await readJson(req);
      const problem = fileRefListProblem(body);
      if (problem) throw new DataApiError('BAD_INPUT', problem);
      const { files } = body as TFileRefList;
      const outcomes = await this.folder.removeMany(files);
      const results = files.map((f, i): TDeleteFileResult => {
        const o = outcomes[i]!;
        return typeof o === 'boolean'
          ? { name: f.name, ok: true, deleted: o }
          : { name: f.name, ok: false, code: o.code, message: o.message, ...(o.details ? { details: o.details } : {}) };
      });
      return json(res, 200, { results });
    }
    if (rawPath.startsWith(`${PULLS_PATH}/`)) {
      only('GET');
      return this.pullProgress(res, rawPath);
    }
    if (rawPath === `${AGENT_API_PREFIX}/pull`) {
      only('POST');
      if (expectsContinue) res.writeContinue();
      return this.pull(req, res);
    }
    if (rawPath.startsWith(FILES_PREFIX)) {
      only('PUT', 'GET', 'HEAD', 'DELETE');
      const name = nameFrom(rawPath, this.folder);
      if (method === 'PUT') return this.put(req, res, name, expectsContinue);
      if (method === 'DELETE') {
        const ifMatch = req.headers['if-match'];
        const sha = ifMatch === undefined ? undefined : normaliseSha256(ifMatch.replaceAll('"', ''));
        if (sha === null) throw new DataApiError('BAD_INPUT', "If-Match takes the file's sha256 (its ETag)");
        // Idempotent: deleting what is not there is a success that says so (deleted: false), not a 404, so a
        // retried delete after a lost answer does not look like a failure.
        return json(res, 200, { name, deleted: await this.folder.remove(name, sha) });
      }
      return this.read(req, res, name, method === 'HEAD');
    }
    throw new DataApiError('NOT_FOUND', `no route ${method} ${rawPath}`);
  }

  private async put(req: IncomingMessage, res: ServerResponse, name: string, expectsContinue: boolean): Promise<void> {
    const sha256 = normaliseSha256(req.headers[SHA256_HEADER]);
    if (sha256 === null) throw new DataApiError('BAD_INPUT', `${SHA256_HEADER} must be the content's SHA-256 in hex`);
    const declared = req.headers['content-length'];
    if (declared === undefined)
      throw new DataApiError('LENGTH_REQUIRED', 'a put needs Content-Length (no chunked bodies): the agent checks capacity before reading');
    const sizeBytes = Number(declared);
    if (sizeBytes > this.opts.maxFileBytes) {
      throw new DataApiError(
        'PAYLOAD_TOO_LARGE',
        `${sizeBytes} bytes is over this node's limit of ${this.opts.maxFileBytes} bytes per file`,
        { sizeBytes, maxFileBytes: this.opts.maxFileBytes },
      );
    }
    // The name taken: same content is the success of a retried put (the body is not needed), other content a conflict.
    if (await this.folder.stat(name)) {
      await this.folder.assertSameContent(name, { sha256, sizeBytes });
      closeIfBodyUnread(req, res);
      return json(res, 200, { name, sizeBytes, sha256, created: false });
    }
    const release = await this.folder.reserve(sizeBytes);
    try {
      if (expectsContinue) res.writeContinue();
      const { created } = await this.folder.writeVerified(name, this.received.counted(req as AsyncIterable<Buffer>), { sha256, sizeBytes }); // no encoding set: Buffers
      json(res, created ? 201 : 200, { name, sizeBytes, sha256, created });
    } finally {
      release();
    }
  }

  private async read(req: IncomingMessage, res: ServerResponse, name: string, headOnly: boolean): Promise<void> {
    const cap = headOnly ? null : readCap(req);
    const opened = await this.folder.openRead(name);
    if (!opened) throw new DataApiError('NOT_FOUND', `no file ${JSON.stringify(name)} on ${this.opts.node}`, { name });
    const { fh, entry } = opened;
    const size = entry.sizeBytes;
    const range = headOnly ? null : parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      await fh.close();
      res.setHeader('content-range', `bytes */${size}`);
      throw new DataApiError('RANGE_NOT_SATISFIABLE', `range ${req.headers.range} is outside the file's ${size} bytes`, {
        sizeBytes: size,
      });
    }
    const headers = { ...fileHeaders(entry), 'content-type': 'application/octet-stream' };
    if (headOnly) {
      await fh.close();
      res.writeHead(200, { ...headers, 'content-length': size });
      return void res.end();
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
    else res.writeHead(200, { ...headers, 'content-length': size });
    if (size === 0) {
      await fh.close();
      return void res.end();
    }
    // The stream owns the handle from here and closes it at the end, or when the client goes away; either way the
    // pipeline settles and the lease goes back. Under a cap, pieces of a paced request's size keep the rate even.
    const lease = cap === null ? null : this.outbound.lease(cap);
    const piece = lease ? Math.min(READ_PIECE_BYTES, requestBytesFor(lease.ratePerSec)) : READ_PIECE_BYTES;
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const sent = this.sent;
    try {
      await pipeline(
        fh.createReadStream({ start, end, highWaterMark: piece }),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            await pace(lease, chunk.byteLength, gone.signal);
            sent.add(chunk.byteLength);
            yield chunk;
          }
        },
        res,
      ).catch(() => undefined);
    } finally {
      lease?.release();
    }
  }

  private async list(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const rawLimit = query.get('limit');
    const limit = rawLimit === null ? DEFAULT_LIST_LIMIT : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
      throw new DataApiError('BAD_INPUT', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
    json(res, 200, await this.folder.list(query.get('after') || null, limit));
  }

  private async pull(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const problem = pullRequestProblem(body);
    if (problem) throw new DataApiError('BAD_INPUT', problem);
    // A batch may take long and answers only at the end: no idle timeout on this socket. If the caller goes
    // away, the batch stops (files already published stay: each one is complete and verified).
    req.socket.setTimeout(0);
    const ac = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const { id } = body as TPullRequest;
    const started = performance.now();
    try {
      json(
        res,
        200,
        await pullBatch(
          this.folder,
          body as TPullRequest,
          ac.signal,
          this.inbound,
          this.received,
          id ? (p) => this.pulls.set(id, { p, started }) : undefined,
        ),
      );
    } finally {
      if (id) this.pulls.delete(id);
    }
  }

  /** GET /v1/pulls/<id>: how far a running pull got. */
  private pullProgress(res: ServerResponse, rawPath: string): void {
    const id = rawPath.slice(PULLS_PATH.length + 1);
    const run = isPullId(id) ? this.pulls.get(id) : undefined;
    if (!run) throw new DataApiError('NOT_FOUND', `no pull ${JSON.stringify(id)} is running on ${this.opts.node}`);
    const progress: TPullProgress = {
      id,
      bytes: run.p.bytes,
      linked: run.p.linked,
      elapsedMs: Math.round(performance.now() - run.started),
    };
    json(res, 200, progress);
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = isDataApiError(err) ? err : new DataApiError('INTERNAL', (err as Error)?.message ?? String(err), undefined, { cause: err });
    if (e.code === 'INTERNAL') this.log(`${req.method} ${req.url?.split('?')[0]} failed: ${e.message}`);
    if (res.headersSent || req.socket.destroyed) {
      res.destroy();
      return;
    }
    closeIfBodyUnread(req, res);
    if (req.method === 'HEAD') {
      res.writeHead(e.status, { 'x-zkha-error': e.code });
      return void res.end();
    }
    json(res, e.status, e.toBody());
  }
}
