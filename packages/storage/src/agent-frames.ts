/**
 * The framed stream of POST /v1/files:read: many files in one response, so that moving thousands of small files
 * costs one request per batch rather than one per file. Each frame is a 4-byte big-endian header length, the
 * header as JSON (TFrameHeader), then, for a file served, exactly `sizeBytes` bytes of content. The last frame
 * is `{ end: true, files }`: a stream that stops without it was cut off, and no file after the cut is complete.
 * The reader trusts nothing it parses: a header that is not one of the three shapes ends the stream as corrupt.
 */
import { isAgentErrorCode, type TFrameHeader } from './agent-protocol.ts';

/** A header longer than this is corruption, not a file name. */
export const MAX_FRAME_HEADER_BYTES = 64 * 1024;

export function encodeFrameHeader(header: TFrameHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.byteLength);
  out.writeUInt32BE(json.byteLength, 0);
  json.copy(out, 4);
  return out;
}

/** The stream broke off or is not a frame stream: nothing from the current frame on can be trusted. */
export class FrameStreamError extends Error {
  override readonly name = 'FrameStreamError';
}

function validHeader(h: unknown): h is TFrameHeader {
  if (typeof h !== 'object' || h === null) return false;
  const v = h as Record<string, unknown>;
  if (v['end'] === true) return Number.isSafeInteger(v['files']);
  if (typeof v['name'] !== 'string') return false;
  if (v['ok'] === true)
    return (
      Number.isSafeInteger(v['sizeBytes']) &&
      (v['sizeBytes'] as number) >= 0 &&
      typeof v['sha256'] === 'string' &&
      typeof v['modifiedAt'] === 'string'
    );
  return v['ok'] === false && isAgentErrorCode(v['code']) && typeof v['message'] === 'string';
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads frames from a byte stream, pull by pull: `next()` gives a header, then `body()` the file's bytes as they
 * come (views into the received chunks, no copy). A body left unread, or read in part, is skipped by the next
 * `next()`, so a consumer that gives up on one file can go on with the others.
 */
export class FrameReader {
  private pending: Buffer = EMPTY;
  private bodyLeft = 0;
  private ended = false;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The next header; FrameStreamError when the stream ends or is not made of frames. */
  async next(): Promise<TFrameHeader> {
    while (this.bodyLeft > 0) {
      if (this.pending.byteLength === 0 && !(await this.fill()))
        throw new FrameStreamError(`the stream ended with ${this.bodyLeft} bytes of a file unread`);
      const n = Math.min(this.bodyLeft, this.pending.byteLength);
      this.pending = this.pending.subarray(n);
      this.bodyLeft -= n;
    }
    const length = (await this.exact(4)).readUInt32BE(0);
    if (length > MAX_FRAME_HEADER_BYTES) throw new FrameStreamError(`a frame header of ${length} bytes: not a frame stream`);
    let header: unknown;
    try {
      header = JSON.parse((await this.exact(length)).toString('utf8'));
    } catch (err) {
      if (err instanceof FrameStreamError) throw err;
      throw new FrameStreamError('a frame header is not JSON');
    }
    if (!validHeader(header)) throw new FrameStreamError(`not a frame header: ${JSON.stringify(header).slice(0, 200)}`);
    if ('sizeBytes' in header) this.bodyLeft = header.sizeBytes;
    return header;
  }

  /** The body of the file whose header `next()` just gave: exactly its `sizeBytes` bytes, or FrameStreamError. */
  async *body(): AsyncGenerator<Uint8Array> {
    while (this.bodyLeft > 0) {
      if (this.pending.byteLength === 0 && !(await this.fill()))
        throw new FrameStreamError(`the stream ended with ${this.bodyLeft} bytes of a file missing`);
      const n = Math.min(this.bodyLeft, this.pending.byteLength);
      const chunk = this.pending.subarray(0, n);
      this.pending = this.pending.subarray(n);
      this.bodyLeft -= n;
      yield chunk;
    }
  }

  /**
   * After the end frame: reads the source to its end, so an HTTP response completes and its kept-alive connection
   * can serve the next request (returning the stream early would destroy the connection). Bytes past the end frame
   * are corruption.
   */
  async finish(): Promise<void> {
    if (this.pending.byteLength > 0) throw new FrameStreamError('bytes after the end frame');
    while (await this.fill()) {
      if (this.pending.byteLength > 0) throw new FrameStreamError('bytes after the end frame');
    }
  }

  /** Stops reading (the source's stream is returned, which destroys an HTTP response). */
  async close(): Promise<void> {
    this.ended = true;
    await this.it.return?.();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    let r: IteratorResult<Uint8Array>;
    try {
      r = await this.it.next();
    } catch (err) {
      this.ended = true;
      throw new FrameStreamError(`the stream broke off: ${(err as Error).message}`, { cause: err });
    }
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.pending = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    return true;
  }

  private async exact(n: number): Promise<Buffer> {
    while (this.pending.byteLength < n) {
      if (!(await this.fill()))
        throw new FrameStreamError(
          this.pending.byteLength === 0 ? 'the stream ended before its end frame' : 'the stream ended inside a frame header',
        );
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }
}
