/**
 * POST /v1/files:read, the source side of a pull's small files: many files answered as one framed stream
 * (agent-frames.ts in @zkha/storage), read with synchronous calls in slices (disk-io.ts says why), gathered into
 * few writes and, under a cap, paid for in the node's outbound bucket before they go out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import {
  encodeFrameHeader,
  fileRefListProblem,
  FRAMES_CONTENT_TYPE,
  normaliseSha256,
  type TFileEntry,
  type TFileRef,
  type TFileRefList,
  type TFrameHeader,
} from '@zkha/storage';

import type { AgentFolder } from './agent-folder.ts';
import { requestBytesFor, type BandwidthLease, type BandwidthLimiter, type RateMeter } from './bandwidth.ts';
import { DataApiError, isDataApiError } from './data-api-error.ts';
import { pace, readJson } from './data-requests.ts';
import { SMALL_IO_BYTES, TimeSlice } from './disk-io.ts';

/** Frames of a multi-file read are gathered up to this size before a write, so small files do not cost a write each. */
const FRAME_FLUSH_BYTES = 256 * 1024;

/** What a framed read needs of the agent answering it (a DataServer's folder, node name, bucket and meter). */
export interface FramedReadServer {
  /** The node's name, for the NOT_FOUND of a file that is not there. */
  readonly node: string;
  readonly folder: Pick<AgentFolder, 'readSmall' | 'openRead'>;
  /** The node's one outbound bucket, shared with single-file GETs: what a capped read pays in. */
  readonly outbound: BandwidthLimiter;
  /** File bytes sent, for GET /v1/usage. */
  readonly sent: RateMeter;
  /** Where a read that failed for an internal reason is told. */
  log(line: string): void;
}

/**
 * POST /v1/files:read: the files asked for, in order, as one framed stream (agent-frames.ts). A file that is not
 * there, or holds other content than the `sha256` given, gets a failure frame and the stream goes on. Frames are
 * gathered into writes of FRAME_FLUSH_BYTES (under a cap, of a paced request's size), with backpressure, and under a
 * cap the file bytes of each write are paid for in the node's outbound bucket first. A file that changes under the
 * read (shorter than its fstat said) cannot be framed any more: the stream is cut, which the reader sees as no end
 * frame. `cap` is the request's readCap, checked by the caller before the body was asked for.
 */
export async function readMany(server: FramedReadServer, req: IncomingMessage, res: ServerResponse, cap: number | null): Promise<void> {
  const body = await readJson(req);
  const problem = fileRefListProblem(body);
  if (problem) throw new DataApiError('BAD_INPUT', problem);
  const { files } = body as TFileRefList;
  const lease = cap === null ? null : server.outbound.lease(cap);
  try {
    await sendFrames(server, res, files, lease);
  } finally {
    lease?.release();
  }
}

async function sendFrames(
  server: FramedReadServer,
  res: ServerResponse,
  files: readonly TFileRef[],
  lease: BandwidthLease | null,
): Promise<void> {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  res.writeHead(200, { 'content-type': FRAMES_CONTENT_TYPE, 'cache-control': 'no-store' });
  const out = new FrameWriter(server, res, lease, ac.signal);
  const slice = new TimeSlice();
  for (const f of files) {
    await slice.maybeYield();
    await sendFile(server, out, f);
  }
  await out.frame({ end: true, files: files.length });
  await out.flush();
  res.end();
}

/** One file's frame: read whole when small, streamed from its handle when large, or the failure that stops it. */
async function sendFile(server: FramedReadServer, out: FrameWriter, f: TFileRef): Promise<void> {
  const want = f.sha256 === undefined ? null : normaliseSha256(f.sha256);
  let small: ReturnType<AgentFolder['readSmall']>;
  try {
    small = server.folder.readSmall(f.name, SMALL_IO_BYTES);
    if (small === 'absent') throw new DataApiError('NOT_FOUND', `no file ${JSON.stringify(f.name)} on ${server.node}`, { name: f.name });
    if (small === 'changed') throw new DataApiError('INTERNAL', `${f.name} changed while being read`, { name: f.name });
  } catch (err) {
    return out.failed(f.name, err);
  }
  if (small === 'large') return sendLarge(server, out, f, want);
  if (want !== null && want !== small.entry.sha256) return out.mismatch(small.entry, want);
  await out.frame({ ok: true, ...small.entry });
  await out.push(small.bytes, true);
}

/** A large file: streamed from its handle, a piece at a time. */
async function sendLarge(server: FramedReadServer, out: FrameWriter, f: TFileRef, want: string | null): Promise<void> {
  const opened = await server.folder.openRead(f.name).catch((err: unknown) => err as Error);
  if (opened === null || opened instanceof Error)
    return out.failed(
      f.name,
      opened ?? new DataApiError('NOT_FOUND', `no file ${JSON.stringify(f.name)} on ${server.node}`, { name: f.name }),
    );
  const { fh, entry } = opened;
  try {
    if (want !== null && want !== entry.sha256) return await out.mismatch(entry, want);
    await out.frame({ ok: true, ...entry });
    for (let pos = 0; pos < entry.sizeBytes;) {
      const n = Math.min(entry.sizeBytes - pos, out.flushAt);
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await fh.read(buf, 0, n, pos);
      // The header is out: a file that shrank cannot be framed any more, only cut off.
      if (bytesRead === 0) throw new Error(`${f.name} shrank while being read`);
      pos += bytesRead;
      await out.push(bytesRead === n ? buf : buf.subarray(0, bytesRead), true);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * The framed stream's writer: frames and file bytes gathered into writes of `flushAt` bytes, with backpressure;
 * under a cap the file bytes of each write are paid for in the node's outbound bucket first.
 */
class FrameWriter {
  readonly flushAt: number;
  private parts: Buffer[] = [];
  private pending = 0;
  /** File bytes among the pending ones: what is paid for and counted (frame headers are not file data). */
  private pendingData = 0;

  constructor(
    private readonly server: FramedReadServer,
    private readonly res: ServerResponse,
    private readonly lease: BandwidthLease | null,
    private readonly signal: AbortSignal,
  ) {
    this.flushAt = lease ? Math.min(FRAME_FLUSH_BYTES, requestBytesFor(lease.ratePerSec)) : FRAME_FLUSH_BYTES;
  }

  async push(buf: Buffer, isData: boolean): Promise<void> {
    this.parts.push(buf);
    this.pending += buf.byteLength;
    if (isData) this.pendingData += buf.byteLength;
    if (this.pending >= this.flushAt) await this.flush();
  }

  frame(h: TFrameHeader): Promise<void> {
    return this.push(encodeFrameHeader(h), false);
  }

  failed(name: string, err: unknown): Promise<void> {
    const e = isDataApiError(err) ? err : new DataApiError('INTERNAL', (err as Error).message, undefined, { cause: err });
    if (e.code === 'INTERNAL') this.server.log(`read of ${name} failed: ${e.message}`);
    return this.frame({ name, ok: false, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) });
  }

  mismatch(entry: TFileEntry, want: string): Promise<void> {
    return this.frame({
      name: entry.name,
      ok: false,
      code: 'CHECKSUM_MISMATCH',
      message: `${entry.name} holds ${entry.sha256}, not ${want}`,
      details: { expected: want, actual: entry.sha256 },
    });
  }

  async flush(): Promise<void> {
    const out = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.pending);
    const data = this.pendingData;
    this.parts = [];
    this.pending = 0;
    this.pendingData = 0;
    await pace(this.lease, data, this.signal);
    this.server.sent.add(data);
    if (!this.res.write(out))
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done).on('close', done);
      });
    this.signal.throwIfAborted();
  }
}
