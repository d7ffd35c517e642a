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
 *
 * This module plans the batch into jobs and runs them (a large file alone, small ones as a framed group); the steps
 * they share are their own modules: talking to the source (pull-source.ts), checking a file before any traffic
 * (pull-precheck.ts) and the same-host links (pull-link.ts).
 */
import http from 'node:http';
import https from 'node:https';

import {
  FrameReader,
  FrameStreamError,
  READ_FILES_PATH,
  type TFrameHeader,
  type TPullFile,
  type TPullFileResult,
  type TPullRequest,
  type TPullResult,
} from '@zkha/storage';

import type { AgentFolder, StagedFile } from './agent-folder.ts';
import { SMALL_IO_BYTES, TimeSlice } from './disk-io.ts';
import { requestBytesFor, type BandwidthLease, type BandwidthLimiter, type RateMeter } from './bandwidth.ts';
import { DataApiError, isDataApiError } from './data-api-error.ts';
import { linkFirst, probeSource } from './pull-link.ts';
import { failure, precheck, precheckAll } from './pull-precheck.ts';
import { counted, fileBody, pay, readError, request, type PullContext } from './pull-source.ts';

const DEFAULT_CONCURRENCY = 4;
/** Files up to this size travel in framed multi-file reads (and are written synchronously); larger ones alone. */
export const SMALL_FILE_BYTES = SMALL_IO_BYTES;
const GROUP_MAX_FILES = 512;
const GROUP_MAX_BYTES = 16 * 1024 * 1024;

type Job = { kind: 'one'; index: number } | { kind: 'group'; indices: number[] };

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

/** A file of a group, checked before any traffic: its index in the batch and the checksum it must have. */
type Wanted = { index: number; sha256: string };

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
  const progress = { next: 0 };
  try {
    await pay(ctx, total);
    const res = await requestGroup(ctx, files, wanted);
    if (res === 'unsupported') {
      release();
      return await oneByOne();
    }
    await receiveGroup(ctx, files, wanted, new FrameReader(res), { results, staged, progress });
  } catch (err) {
    // Everything from the file in flight on is not here; what was staged before is complete and verified.
    const why = ctx.signal.aborted
      ? new DataApiError('SOURCE_UNAVAILABLE', 'the pull was cancelled before this file')
      : err instanceof FrameStreamError
        ? new DataApiError('SOURCE_UNAVAILABLE', `the source's stream broke off: ${err.message}`)
        : err;
    for (const w of wanted.slice(progress.next)) results[w.index] ??= failure(files[w.index]!.name, why);
  } finally {
    try {
      await publishGroup(ctx, staged, results);
    } finally {
      release();
    }
  }
}

/** Asks the source for the group's files; 'unsupported' from a source without multi-file reads (then one by one). */
async function requestGroup(
  ctx: PullContext,
  files: readonly TPullFile[],
  wanted: readonly Wanted[],
): Promise<http.IncomingMessage | 'unsupported'> {
  const body = Buffer.from(JSON.stringify({ files: wanted.map((w) => ({ name: files[w.index]!.name, sha256: w.sha256 })) }));
  const res = await request(ctx, 'POST', READ_FILES_PATH, { 'content-type': 'application/json', 'content-length': body.byteLength }, body);
  if (res.statusCode === 404 || res.statusCode === 405) {
    res.resume();
    ctx.batchRead = false;
    return 'unsupported';
  }
  if (res.statusCode !== 200) throw await readError(res);
  return res;
}

/**
 * Reads the group's frames in the order asked for and stages each file that arrives whole and as expected;
 * `progress.next` is the file in flight, so a break tells which files never arrived.
 */
async function receiveGroup(
  ctx: PullContext,
  files: readonly TPullFile[],
  wanted: readonly Wanted[],
  frames: FrameReader,
  into: { results: TPullFileResult[]; staged: { index: number; file: StagedFile }[]; progress: { next: number } },
): Promise<void> {
  const { results, staged, progress } = into;
  const slice = new TimeSlice();
  try {
    for (; progress.next < wanted.length; progress.next++) {
      ctx.signal.throwIfAborted();
      const { index, sha256 } = wanted[progress.next]!;
      const file = files[index]!;
      const h = await frames.next();
      if ('end' in h || h.name !== file.name)
        throw new FrameStreamError(
          `the source answered ${'end' in h ? 'the end' : JSON.stringify(h.name)} where ${JSON.stringify(file.name)} was due`,
        );
      const problem = frameProblem(file, h, sha256);
      if (problem) {
        results[index] = problem;
        continue;
      }
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
    const end = await frames.next();
    if (!('end' in end)) throw new FrameStreamError('the source sent more files than were asked for');
    await frames.finish();
  } catch (err) {
    await frames.close();
    throw err;
  }
}

/** The failure a file's frame header announces (the source's error, another length or checksum); null if none. */
function frameProblem(file: TPullFile, h: Exclude<TFrameHeader, { end: true }>, sha256: string): TPullFileResult | null {
  if (!h.ok) {
    const code = h.code === 'INTERNAL' ? 'SOURCE_UNAVAILABLE' : h.code;
    return { name: file.name, ok: false, code, message: `source: ${h.message}`, ...(h.details ? { details: h.details } : {}) };
  }
  if (h.sizeBytes !== file.sizeBytes)
    return failure(
      file.name,
      new DataApiError('LENGTH_MISMATCH', `the source holds ${h.sizeBytes} bytes, ${file.sizeBytes} were expected`, {
        expected: file.sizeBytes,
        source: h.sizeBytes,
      }),
    );
  if (h.sha256 !== sha256)
    return failure(
      file.name,
      new DataApiError('CHECKSUM_MISMATCH', `the source's copy hashes to ${h.sha256}, ${sha256} was expected`, {
        expected: sha256,
        source: h.sha256,
      }),
    );
  return null;
}

/** Makes the staged files durable and names them, and records each one's outcome. */
async function publishGroup(
  ctx: PullContext,
  staged: readonly { index: number; file: StagedFile }[],
  results: TPullFileResult[],
): Promise<void> {
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

/** How far a pull got, read while it runs (GET /v1/pulls/<id>). */
export interface PullTracker {
  readonly bytes: number;
  readonly linked: number;
}

/**
 * Pulls every file of the batch with a few requests in flight (one keep-alive connection each), under the node's
 * inbound cap when the batch carries one, and answers one result per file in request order. A file that fails
 * (missing at the source, corrupted, no room) does not stop the others. An abort (the caller went away) stops the
 * batch: files already published stay, as each is complete and verified; the rest are reported as not pulled.
 */
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
