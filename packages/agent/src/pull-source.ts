/**
 * How a pull talks to its source agent: the context every step of a batch shares (PullContext), authenticated
 * requests that tell the source the batch's cap, the source's error answers, paying for bytes in the node's inbound
 * bucket before asking for them, and the bytes of one file by GET (ranged under a cap) with the source's claims
 * about it checked. pull.ts plans and runs the batch on these; pull-link.ts probes the source with them.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

import { BYTES_PER_SEC_HEADER, filePath, isAgentErrorCode, type TPullFile } from '@zkha/storage';

import type { AgentFolder } from './agent-folder.ts';
import { requestBytesFor, type BandwidthLease, type RateMeter } from './bandwidth.ts';
import { DataApiError } from './data-api-error.ts';

/** What every step of one pull batch shares: the source, this folder, the cap, the counts so far. */
export interface PullContext {
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

/** One authenticated request to the source, carrying the batch's cap; an unreachable source is SOURCE_UNAVAILABLE. */
export function request(
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
    // sends to all of them against the lowest cap it is told (data-server.ts, framed-read.ts).
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

/** The source's error answer as a DataApiError: its own code where it gave one (not INTERNAL), else SOURCE_UNAVAILABLE. */
export async function readError(res: IncomingMessage): Promise<DataApiError> {
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

/** Waits until the node's bucket lets `bytes` through (nothing to wait for without a cap). */
export async function pay(ctx: PullContext, bytes: number): Promise<void> {
  const wait = ctx.lease?.take(bytes) ?? 0;
  if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal });
}

/** Passes the source's bytes through, counting them for the batch (GET /v1/pulls/<id>) and the node (GET /v1/usage). */
export async function* counted(ctx: PullContext, source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const c of source) {
    ctx.bytes += c.byteLength;
    ctx.received.add(c.byteLength);
    yield c;
  }
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
export async function* fileBody(ctx: PullContext, file: TPullFile, sha256: string): AsyncIterable<Uint8Array> {
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
