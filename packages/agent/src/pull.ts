/**
 * POST /v1/pull: this agent (the target) fetches a batch of files from another agent (the source).
 *
 * Why the target pulls rather than the source pushing: the target owns the folder the bytes land in, so it alone
 * can reserve capacity for them, hold a `.part` file, verify length and SHA-256 where the bytes actually land,
 * and publish atomically; a push would need all of that from the receiving side anyway, plus a second trip to
 * report the outcome. Pulling also makes the bandwidth cap act on the receiving end of the wire: the target reads
 * no faster than its token bucket allows, and TCP flow control slows the source to match.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

import { TokenBucket } from '@zkha/core';
import { filePath, isAgentErrorCode, normaliseSha256, type TPullFile, type TPullFileResult, type TPullRequest, type TPullResult } from '@zkha/storage';

import type { AgentFolder } from './agent-folder.ts';
import { DataApiError, isDataApiError } from './data-api-error.ts';

const DEFAULT_CONCURRENCY = 4;
/**
 * Burst of the pull's bucket: a thirty-second of the rate, at least 16 KiB. Small, so the cap holds over short
 * windows too (a one-second burst would let a 2 MiB pull at 1 MiB/s finish in one second).
 */
function burstFor(rate: number): number {
  return Math.max(16 * 1024, rate / 32);
}

/** Yields `source`'s chunks no faster than `bucket` allows. */
async function* throttled(source: AsyncIterable<Uint8Array>, bucket: TokenBucket | null, signal: AbortSignal): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    const wait = bucket?.take(chunk.byteLength) ?? 0;
    if (wait > 0) await sleep(wait, undefined, { signal });
    yield chunk;
  }
}

function get(url: URL, token: string, agent: http.Agent, signal: AbortSignal): Promise<IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: 'GET', agent, headers: { authorization: `Bearer ${token}` }, signal }, resolve);
    req.once('error', reject);
    req.end();
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
  return new DataApiError(code, `source answered ${res.statusCode}: ${typeof body.message === 'string' ? body.message : text.slice(0, 200)}`, { sourceStatus: res.statusCode });
}

interface PullContext {
  folder: AgentFolder;
  base: URL;
  token: string;
  agent: http.Agent;
  bucket: TokenBucket | null;
  signal: AbortSignal;
  bytes: number;
}

async function pullOne(ctx: PullContext, file: TPullFile): Promise<TPullFileResult> {
  const sha256 = normaliseSha256(file.sha256);
  if (sha256 === null) throw new DataApiError('BAD_INPUT', `sha256 of ${JSON.stringify(file.name)} is not 64 hex digits`);
  const want = { sha256, sizeBytes: file.sizeBytes, signal: ctx.signal };
  ctx.folder.pathOf(file.name); // BAD_INPUT for a name that could escape the folder, before any traffic
  // Already here (a retried batch): the same content is success without a byte on the wire.
  if (await ctx.folder.stat(file.name)) {
    await ctx.folder.assertSameContent(file.name, want);
    return { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256, created: false };
  }
  const release = await ctx.folder.reserve(file.sizeBytes);
  try {
    let res: IncomingMessage;
    try {
      res = await get(new URL(filePath(file.name), ctx.base), ctx.token, ctx.agent, ctx.signal);
    } catch (err) {
      throw new DataApiError('SOURCE_UNAVAILABLE', `cannot reach the source: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (res.statusCode !== 200) throw await readError(res);
    // The source's own claims are checked first to spare the transfer, and never trusted: the bytes are verified below.
    const length = Number(res.headers['content-length']);
    const etag = String(res.headers.etag ?? '').replaceAll('"', '');
    if (res.headers['content-length'] !== undefined && length !== file.sizeBytes) {
      res.destroy();
      throw new DataApiError('LENGTH_MISMATCH', `the source holds ${length} bytes, ${file.sizeBytes} were expected`, { expected: file.sizeBytes, source: length });
    }
    if (etag && etag !== sha256) {
      res.destroy();
      throw new DataApiError('CHECKSUM_MISMATCH', `the source's copy hashes to ${etag}, ${sha256} was expected`, { expected: sha256, source: etag });
    }
    const counted = (async function* () {
      for await (const c of throttled(res, ctx.bucket, ctx.signal)) {
        ctx.bytes += c.byteLength;
        yield c;
      }
    })();
    const { created } = await ctx.folder.writeVerified(file.name, counted, want).finally(() => res.destroy());
    return { name: file.name, ok: true, sizeBytes: file.sizeBytes, sha256, created };
  } finally {
    release();
  }
}

/**
 * Pulls every file of the batch with a few fetches in flight (one keep-alive connection each), sharing one token
 * bucket, and answers one result per file in request order. A file that fails (missing at the source, corrupted,
 * no room) does not stop the others. An abort (the caller went away) stops the batch: files already published
 * stay, as each is complete and verified; the rest are reported as not pulled.
 */
export async function pullBatch(folder: AgentFolder, req: TPullRequest, signal: AbortSignal): Promise<TPullResult> {
  const started = performance.now();
  const rate = req.bytesPerSec ?? null;
  const ctx: PullContext = {
    folder,
    base: new URL(req.source.url),
    token: req.source.token,
    agent: new (req.source.url.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: req.concurrency ?? DEFAULT_CONCURRENCY }),
    bucket: rate === null ? null : new TokenBucket({ ratePerSec: rate, burst: burstFor(rate), now: () => performance.now() }),
    signal,
    bytes: 0,
  };
  const results: TPullFileResult[] = new Array(req.files.length);
  let next = 0;
  const worker = async () => {
    while (next < req.files.length) {
      const i = next++;
      const file = req.files[i]!;
      try {
        if (signal.aborted) throw new DataApiError('SOURCE_UNAVAILABLE', 'the pull was cancelled before this file');
        results[i] = await pullOne(ctx, file);
      } catch (err) {
        const e = isDataApiError(err) ? err : new DataApiError('INTERNAL', (err as Error).message ?? String(err), undefined, { cause: err });
        results[i] = { name: file.name, ok: false, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(req.concurrency ?? DEFAULT_CONCURRENCY, req.files.length) }, worker));
  } finally {
    ctx.agent.destroy();
  }
  return { results, bytes: ctx.bytes, elapsedMs: Math.round(performance.now() - started) };
}
