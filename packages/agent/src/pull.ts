/**
 * POST /v1/pull: this agent (the target) fetches a batch of files from another agent (the source).
 *
 * Why the target pulls rather than the source pushing: the target owns the folder the bytes land in, so it alone
 * can reserve capacity for them, hold a `.part` file, verify length and SHA-256 where the bytes actually land,
 * and publish atomically; a push would need all of that from the receiving side anyway, plus a second trip to
 * report the outcome. Pulling also puts the bandwidth cap on the receiving end of the wire, where it is measured.
 *
 * Small files travel many to a request (POST /v1/files:read, a framed stream) and are made durable a group at a
 * time (one syncfs, see AgentFolder.publishStaged): per file, a request and a journal commit would cost far more
 * than the bytes. Large files travel one to a request. Under a cap, bytes are paid for before they are asked for
 * (a group, or one range of a large file, at a time), so the source cannot run ahead into socket buffers; and each
 * request tells the source the cap, which it holds for everything it sends (other targets may pull from it too).
 *
 * With `link`, files are first tried by the same-host fast path (linkFirst): a hard link from the source's folder
 * when a probe proves this agent sees it, read and hashed here all the same. Only for uncapped batches, as the
 * migration engine's link path always was.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  BYTES_PER_SEC_HEADER,
  filePath,
  FrameReader,
  FrameStreamError,
  isAgentErrorCode,
  normaliseSha256,
  PROBE_PATH,
  READ_FILES_PATH,
  type TProbe,
  type TPullFile,
  type TPullFileResult,
  type TPullRequest,
  type TPullResult,
} from '@zkha/storage';

import type { AgentFolder, StagedFile } from './agent-folder.ts';
import { SMALL_IO_BYTES, TimeSlice } from './disk-io.ts';
import { requestBytesFor, type BandwidthLease, type BandwidthLimiter, type RateMeter } from './bandwidth.ts';
import { DataApiError, isDataApiError } from './data-api-error.ts';

const DEFAULT_CONCURRENCY = 4;
/** Files up to this size travel in framed multi-file reads (and are written synchronously); larger ones alone. */
export const SMALL_FILE_BYTES = SMALL_IO_BYTES;
const GROUP_MAX_FILES = 512;
const GROUP_MAX_BYTES = 16 * 1024 * 1024;

type Job = { kind: 'one'; index: number } | { kind: 'group'; indices: number[] };

interface PullContext {
  folder: AgentFolder;
  base: URL;
  token: string;
  agent: http.Agent;
  lease: BandwidthLease | null;
  signal: AbortSignal;
  bytes: number;
  /** The node's count of file bytes received, for GET /v1/usage. */
  received: RateMeter;
  /** false once the source has said it has no POST /v1/files:read (an older agent): per-file GETs from then on. */
  batchRead: boolean;
  /** The source's folder, when the same-host fast path is on and proven (see linkFirst). */
  linkDir: string | null;
  linked: number;
}

function request(
  ctx: PullContext,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer,
): Promise<IncomingMessage> {
  const url = new URL(path, ctx.base);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    // Several targets may pull from the source at once, each within its own inbound cap: the source paces what it
    // sends to all of them against the lowest cap it is told (data-server.ts).
    const cap = ctx.lease ? { [BYTES_PER_SEC_HEADER]: ctx.lease.ratePerSec } : {};
    const req = mod.request(
      url,
      { method, agent: ctx.agent, headers: { authorization: `Bearer ${ctx.token}`, ...cap, ...headers }, signal: ctx.signal },
      resolve,
    );
    req.once('error', reject);
    req.end(body);
  }).catch((err: unknown) => {
    throw new DataApiError('SOURCE_UNAVAILABLE', `cannot reach the source: ${(err as Error).message}`, undefined, { cause: err });
  });
}

async function readError(res: IncomingMessage): Promise<DataApiError> {
  let text = '';
  for await (const c of res) if (text.length < 64 * 1024) text += String(c);
  let body: { code?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: the status says enough
  }
  const code = isAgentErrorCode(body.code) && body.code !== 'INTERNAL' ? body.code : 'SOURCE_UNAVAILABLE';
  return new DataApiError(
    code,
    `source answered ${res.statusCode}: ${typeof body.message === 'string' ? body.message : text.slice(0, 200)}`,
    { sourceStatus: res.statusCode },
  );
}

function failure(name: string, err: unknown): TPullFileResult {
  const e = isDataApiError(err) ? err : new DataApiError('INTERNAL', (err as Error)?.message ?? String(err), undefined, { cause: err });
  return { name, ok: false, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
}

/** Waits until the node's bucket lets `bytes` through (nothing to wait for without a cap). */
async function pay(ctx: PullContext, bytes: number): Promise<void> {
  const wait = ctx.lease?.take(bytes) ?? 0;
  if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal });
}

async function* counted(ctx: PullContext, source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const c of source) {
    ctx.bytes += c.byteLength;
    ctx.received.add(c.byteLength);
    yield c;
  }
}

/** Checks one file of the batch before any traffic: its checksum's form, its name, and whether it is already here. */
async function precheck(ctx: PullContext, file: TPullFile, small = false): Promise<{ sha256: string } | TPullFileResult> {
  const sha256 = normaliseSha256(file.sha256);
  if (sha256 === null) throw new DataApiError('BAD_INPUT', `sha256 of ${JSON.stringify(file.name)} is not 64 hex digits`);
  ctx.folder.pathOf(file.name); // BAD_INPUT for a name that could escape the folder
  // Already here (a retried batch): the same content is success without a byte on the wire. For a group of small
  // files, one synchronous lstat answers the usual "not here" (see SMALL_IO_BYTES).
  if ((!small || ctx.folder.existsSync(file.name)) && (await ctx.folder.stat(file.name))) {
    await ctx.folder.assertSameContent(file.name, { sha256, sizeBytes: file.sizeBytes });
    return { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256, created: false };
  }
  return { sha256 };
}

/** The source's claims about a file, checked to spare a transfer, never trusted: the bytes are verified anyway. */
function checkClaims(res: IncomingMessage, file: TPullFile, sha256: string, length: number): void {
  const etag = String(res.headers.etag ?? '').replaceAll('"', '');
  if (res.headers['content-length'] !== undefined && Number(res.headers['content-length']) !== length) {
    res.destroy();
    throw new DataApiError(
      'LENGTH_MISMATCH',
      `the source holds ${res.statusCode === 206 ? 'a range of ' : ''}${res.headers['content-length']} bytes, ${length} were expected`,
      { expected: file.sizeBytes, source: Number(res.headers['content-length']) },
    );
  }
  if (etag && etag !== sha256) {
    res.destroy();
    throw new DataApiError('CHECKSUM_MISMATCH', `the source's copy hashes to ${etag}, ${sha256} was expected`, {
      expected: sha256,
      source: etag,
    });
  }
}

/**
 * The bytes of one file from the source: one GET, or under a cap one ranged GET per paid-for piece (each checked
 * to come from the same content, by its ETag).
 */
async function* fileBody(ctx: PullContext, file: TPullFile, sha256: string): AsyncIterable<Uint8Array> {
  const path = filePath(file.name);
  const piece = ctx.lease ? requestBytesFor(ctx.lease.ratePerSec) : Infinity;
  if (file.sizeBytes <= piece) {
    await pay(ctx, file.sizeBytes);
    const res = await request(ctx, 'GET', path);
    if (res.statusCode !== 200) throw await readError(res);
    checkClaims(res, file, sha256, file.sizeBytes);
    try {
      yield* res;
    } finally {
      res.destroy();
    }
    return;
  }
  for (let start = 0; start < file.sizeBytes; start += piece) {
    const end = Math.min(file.sizeBytes, start + piece) - 1;
    await pay(ctx, end - start + 1);
    const res = await request(ctx, 'GET', path, { range: `bytes=${start}-${end}` });
    if (res.statusCode === 416) {
      res.resume();
      throw new DataApiError('LENGTH_MISMATCH', `the source's copy is shorter than ${file.sizeBytes} bytes`, { expected: file.sizeBytes });
    }
    if (res.statusCode !== 206) {
      if (res.statusCode === 200) res.destroy();
      throw res.statusCode === 200 ? new DataApiError('SOURCE_UNAVAILABLE', 'the source ignored a range request') : await readError(res);
    }
    const total = Number(String(res.headers['content-range']).split('/')[1]);
    if (total !== file.sizeBytes) {
      res.destroy();
      throw new DataApiError('LENGTH_MISMATCH', `the source holds ${total} bytes, ${file.sizeBytes} were expected`, {
        expected: file.sizeBytes,
        source: total,
      });
    }
    checkClaims(res, file, sha256, end - start + 1);
    try {
      yield* res;
    } finally {
      res.destroy();
    }
  }
}

async function pullOne(ctx: PullContext, file: TPullFile): Promise<TPullFileResult> {
  const pre = await precheck(ctx, file);
  if ('name' in pre) return pre;
  const { sha256 } = pre;
  const release = await ctx.folder.reserve(file.sizeBytes);
  try {
    const { created } = await ctx.folder.writeVerified(file.name, counted(ctx, fileBody(ctx, file, sha256)), {
      sha256,
      sizeBytes: file.sizeBytes,
      signal: ctx.signal,
    });
    return { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256, created };
  } finally {
    release();
  }
}

/**
 * Prechecks the given files in turn (yielding to other requests every few ms): those already answered (present,
 * or refused) get their result now; the rest come back with the checksum to fetch them by.
 */
async function precheckAll(
  ctx: PullContext,
  files: readonly TPullFile[],
  indices: readonly number[],
  results: TPullFileResult[],
): Promise<{ index: number; sha256: string }[]> {
  const wanted: { index: number; sha256: string }[] = [];
  const slice = new TimeSlice();
  for (const index of indices) {
    await slice.maybeYield();
    try {
      const pre = await precheck(ctx, files[index]!, true);
      if ('name' in pre) results[index] = pre;
      else wanted.push({ index, sha256: pre.sha256 });
    } catch (err) {
      results[index] = failure(files[index]!.name, err);
    }
  }
  return wanted;
}

/**
 * Many small files in one POST /v1/files:read: staged one after the other as their frames arrive, then made
 * durable and published together. A stream that breaks off keeps the files completed before the break.
 */
async function pullGroup(
  ctx: PullContext,
  files: readonly TPullFile[],
  indices: readonly number[],
  results: TPullFileResult[],
): Promise<void> {
  const wanted = await precheckAll(ctx, files, indices, results);
  const slice = new TimeSlice();
  if (wanted.length === 0) return;
  const oneByOne = async () => {
    for (const { index } of wanted)
      results[index] = await pullOne(ctx, files[index]!).catch((err: unknown) => failure(files[index]!.name, err));
  };
  if (!ctx.batchRead) return oneByOne();
  const total = wanted.reduce((s, w) => s + files[w.index]!.sizeBytes, 0);
  let release: () => void;
  try {
    release = await ctx.folder.reserve(total);
  } catch (err) {
    // No room for all of them: file by file, so each gets its own answer (some may still fit).
    if (isDataApiError(err) && (err.code === 'NODE_FULL' || err.code === 'PAYLOAD_TOO_LARGE')) return oneByOne();
    throw err;
  }
  const staged: { index: number; file: StagedFile }[] = [];
  let next = 0;
  try {
    await pay(ctx, total);
    const body = Buffer.from(JSON.stringify({ files: wanted.map((w) => ({ name: files[w.index]!.name, sha256: w.sha256 })) }));
    const res = await request(
      ctx,
      'POST',
      READ_FILES_PATH,
      { 'content-type': 'application/json', 'content-length': body.byteLength },
      body,
    );
    if (res.statusCode === 404 || res.statusCode === 405) {
      res.resume();
      ctx.batchRead = false;
      release();
      return await oneByOne();
    }
    if (res.statusCode !== 200) throw await readError(res);
    const frames = new FrameReader(res);
    try {
      for (; next < wanted.length; next++) {
        ctx.signal.throwIfAborted();
        const { index, sha256 } = wanted[next]!;
        const file = files[index]!;
        const h = await frames.next();
        if ('end' in h || h.name !== file.name)
          throw new FrameStreamError(
            `the source answered ${'end' in h ? 'the end' : JSON.stringify(h.name)} where ${JSON.stringify(file.name)} was due`,
          );
        if (!h.ok) {
          const code = h.code === 'INTERNAL' ? 'SOURCE_UNAVAILABLE' : h.code;
          results[index] = {
            name: file.name,
            ok: false,
            code,
            message: `source: ${h.message}`,
            ...(h.details ? { details: h.details } : {}),
          };
        } else if (h.sizeBytes !== file.sizeBytes) {
          results[index] = failure(
            file.name,
            new DataApiError('LENGTH_MISMATCH', `the source holds ${h.sizeBytes} bytes, ${file.sizeBytes} were expected`, {
              expected: file.sizeBytes,
              source: h.sizeBytes,
            }),
          );
        } else if (h.sha256 !== sha256) {
          results[index] = failure(
            file.name,
            new DataApiError('CHECKSUM_MISMATCH', `the source's copy hashes to ${h.sha256}, ${sha256} was expected`, {
              expected: sha256,
              source: h.sha256,
            }),
          );
        } else {
          const chunks: Uint8Array[] = [];
          for await (const c of frames.body()) {
            chunks.push(c);
            ctx.received.add(c.byteLength);
          }
          ctx.bytes += file.sizeBytes;
          try {
            staged.push({ index, file: ctx.folder.stageSmall(file.name, chunks, { sha256, sizeBytes: file.sizeBytes }) });
          } catch (err) {
            results[index] = failure(file.name, err);
          }
          await slice.maybeYield();
        }
      }
      const end = await frames.next();
      if (!('end' in end)) throw new FrameStreamError('the source sent more files than were asked for');
      await frames.finish();
    } catch (err) {
      await frames.close();
      throw err;
    }
  } catch (err) {
    // Everything from the file in flight on is not here; what was staged before is complete and verified.
    const why = ctx.signal.aborted
      ? new DataApiError('SOURCE_UNAVAILABLE', 'the pull was cancelled before this file')
      : err instanceof FrameStreamError
        ? new DataApiError('SOURCE_UNAVAILABLE', `the source's stream broke off: ${err.message}`)
        : err;
    for (const w of wanted.slice(next)) results[w.index] ??= failure(files[w.index]!.name, why);
  } finally {
    try {
      const outcomes: ({ created: boolean } | Error)[] = await ctx.folder
        .publishStaged(staged.map((s) => s.file))
        .catch((err: unknown) => staged.map(() => err as Error));
      staged.forEach(({ index, file }, k) => {
        const o = outcomes[k]!;
        results[index] =
          o instanceof Error
            ? failure(file.name, o)
            : { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256: file.sha256, created: o.created };
      });
    } finally {
      release();
    }
  }
}

/**
 * Whether the source's folder can be linked from: same filesystem, and the source's probe file visible here at the
 * path it names. Any failure just means no fast path.
 */
async function probeSource(ctx: PullContext): Promise<string | null> {
  // One probe per source for a while, not one per batch: a rebalance of thousands of files pulls in many batches,
  // and each probe leaves a file in the source's folder for a minute. A stale answer costs nothing: a link that
  // fails sends its file over HTTP.
  const key = ctx.base.origin;
  let seen = probeCache.get(ctx.folder);
  if (!seen) probeCache.set(ctx.folder, (seen = new Map<string, { dir: string | null; at: number }>()));
  const hit = seen.get(key);
  if (hit && performance.now() - hit.at < PROBE_CACHE_MS) return hit.dir;
  const dir = await probeOnce(ctx);
  seen.set(key, { dir, at: performance.now() });
  return dir;
}

const PROBE_CACHE_MS = 30_000;
const probeCache = new WeakMap<AgentFolder, Map<string, { dir: string | null; at: number }>>();

async function probeOnce(ctx: PullContext): Promise<string | null> {
  try {
    const res = await request(ctx, 'POST', PROBE_PATH, { 'content-length': 0 });
    let text = '';
    for await (const c of res) text += String(c);
    if (res.statusCode !== 200) return null;
    const probe = JSON.parse(text) as TProbe;
    return typeof probe.folder === 'string' && typeof probe.name === 'string' && ctx.folder.seesProbe(probe) ? probe.folder : null;
  } catch {
    return null;
  }
}

/**
 * The same-host fast path for a job's files: hard links from the source's folder, each read and hashed here before
 * it is published (one directory sync for all). Returns the files that still need HTTP (the link could not be
 * made, or there was no room for the group at once: HTTP gives those their own answers).
 */
async function linkFirst(
  ctx: PullContext,
  files: readonly TPullFile[],
  indices: readonly number[],
  results: TPullFileResult[],
): Promise<number[]> {
  const wanted = await precheckAll(ctx, files, indices, results);
  const slice = new TimeSlice();
  if (wanted.length === 0) return [];
  let release: () => void;
  try {
    release = await ctx.folder.reserve(wanted.reduce((s, w) => s + files[w.index]!.sizeBytes, 0));
  } catch {
    return wanted.map((w) => w.index);
  }
  const viaHttp: number[] = [];
  const staged: { index: number; file: StagedFile }[] = [];
  try {
    for (const { index, sha256 } of wanted) {
      await slice.maybeYield();
      const file = files[index]!;
      try {
        const s = await ctx.folder.stageLink(path.join(ctx.linkDir!, file.name), file.name, { sha256, sizeBytes: file.sizeBytes });
        if (s) staged.push({ index, file: s });
        else viaHttp.push(index);
      } catch (err) {
        results[index] = failure(file.name, err);
      }
    }
    const outcomes: ({ created: boolean } | Error)[] = await ctx.folder
      .publishStaged(staged.map((s) => s.file))
      .catch((err: unknown) => staged.map(() => err as Error));
    staged.forEach(({ index, file }, k) => {
      const o = outcomes[k]!;
      if (o instanceof Error) return void (results[index] = failure(file.name, o));
      results[index] = { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256: file.sha256, created: o.created };
      ctx.linked++;
    });
  } finally {
    release();
  }
  return viaHttp;
}

/** Splits the batch into jobs: small files in groups of about an equal share per worker, large ones alone. */
function plan(files: readonly TPullFile[], concurrency: number, lease: BandwidthLease | null): Job[] {
  const small = files.filter((f) => f.sizeBytes <= SMALL_FILE_BYTES).length;
  const maxFiles = Math.min(GROUP_MAX_FILES, Math.max(16, Math.ceil(small / concurrency)));
  // Under a cap a group is paid for at once: no bigger than one paced request.
  const maxBytes = lease ? requestBytesFor(lease.ratePerSec) : GROUP_MAX_BYTES;
  const jobs: Job[] = [];
  let group: number[] = [];
  let bytes = 0;
  files.forEach((f, index) => {
    if (f.sizeBytes > SMALL_FILE_BYTES || f.sizeBytes > maxBytes) return void jobs.push({ kind: 'one', index });
    if (group.length > 0 && (group.length >= maxFiles || bytes + f.sizeBytes > maxBytes)) {
      jobs.push({ kind: 'group', indices: group });
      group = [];
      bytes = 0;
    }
    group.push(index);
    bytes += f.sizeBytes;
  });
  if (group.length > 0) jobs.push({ kind: 'group', indices: group });
  return jobs;
}

/**
 * Pulls every file of the batch with a few requests in flight (one keep-alive connection each), under the node's
 * inbound cap when the batch carries one, and answers one result per file in request order. A file that fails
 * (missing at the source, corrupted, no room) does not stop the others. An abort (the caller went away) stops the
 * batch: files already published stay, as each is complete and verified; the rest are reported as not pulled.
 */
/** How far a pull got, read while it runs (GET /v1/pulls/<id>). */
export interface PullTracker {
  readonly bytes: number;
  readonly linked: number;
}

export async function pullBatch(
  folder: AgentFolder,
  req: TPullRequest,
  signal: AbortSignal,
  limiter: BandwidthLimiter,
  received: RateMeter,
  track?: (progress: PullTracker) => void,
): Promise<TPullResult> {
  const started = performance.now();
  const concurrency = req.concurrency ?? DEFAULT_CONCURRENCY;
  const lease = req.bytesPerSec ? limiter.lease(req.bytesPerSec) : null;
  const ctx: PullContext = {
    folder,
    base: new URL(req.source.url),
    token: req.source.token,
    agent: new (req.source.url.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: concurrency }),
    lease,
    signal,
    bytes: 0,
    received,
    batchRead: true,
    linkDir: null,
    linked: 0,
  };
  track?.(ctx);
  const results = new Array<TPullFileResult>(req.files.length);
  // Under a cap, no links: the cap is there to spare the node's disk and link, and hashing a linked file still reads it.
  if (req.link && !lease) ctx.linkDir = await probeSource(ctx);
  const jobs = plan(req.files, concurrency, lease);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const indices = job.kind === 'one' ? [job.index] : job.indices;
      try {
        if (signal.aborted) throw new DataApiError('SOURCE_UNAVAILABLE', 'the pull was cancelled before this file');
        const rest = ctx.linkDir ? await linkFirst(ctx, req.files, indices, results) : indices;
        if (rest.length === 0) continue;
        if (job.kind === 'one') results[job.index] = await pullOne(ctx, req.files[job.index]!);
        else await pullGroup(ctx, req.files, rest, results);
      } catch (err) {
        for (const i of indices) results[i] ??= failure(req.files[i]!.name, err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  } finally {
    lease?.release();
    ctx.agent.destroy();
  }
  return { results, bytes: ctx.bytes, ...(req.link ? { linked: ctx.linked } : {}), elapsedMs: Math.round(performance.now() - started) };
}
