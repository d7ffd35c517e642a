import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { encodeFrameHeader, FrameReader, FrameStreamError, MAX_FRAME_HEADER_BYTES } from './agent-frames.ts';
import type { TFrameHeader } from './agent-protocol.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function fileFrame(name: string, body: Buffer): Buffer {
  return Buffer.concat([
    encodeFrameHeader({ ok: true, name, sizeBytes: body.length, sha256: sha(body), modifiedAt: new Date(0).toISOString() }),
    body,
  ]);
}

/** The same bytes cut into pieces of `size` (1 = every byte boundary falls between two chunks). */
async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(reader: FrameReader): Promise<{ header: TFrameHeader; body?: Buffer }[]> {
  const out: { header: TFrameHeader; body?: Buffer }[] = [];
  for (;;) {
    const header = await reader.next();
    if ('end' in header) {
      await reader.finish();
      out.push({ header });
      return out;
    }
    if (!header.ok) {
      out.push({ header });
      continue;
    }
    const parts: Buffer[] = [];
    for await (const c of reader.body()) parts.push(Buffer.from(c));
    out.push({ header, body: Buffer.concat(parts) });
  }
}

describe('FrameReader', () => {
  const a = randomBytes(5000);
  const empty = Buffer.alloc(0);
  const stream = Buffer.concat([
    fileFrame('a.bin', a),
    encodeFrameHeader({ name: 'gone', ok: false, code: 'NOT_FOUND', message: 'no file "gone"' }),
    fileFrame('empty', empty),
    encodeFrameHeader({ end: true, files: 3 }),
  ]);

  it('reads files, failures and the end frame, however the stream is cut into chunks', async () => {
    for (const size of [1, 3, 4, 7, 4096, stream.length]) {
      const got = await readAll(new FrameReader(pieces(stream, size)));
      expect(
        got.map((g) => ('end' in g.header ? 'end' : `${g.header.name}:${g.header.ok}`)),
        `chunks of ${size}`,
      ).toEqual(['a.bin:true', 'gone:false', 'empty:true', 'end']);
      expect(got[0]!.body!.equals(a)).toBe(true);
      expect(got[2]!.body).toEqual(empty);
    }
  });

  it('skips a body left unread or read in part', async () => {
    const reader = new FrameReader(pieces(stream, 1000));
    expect(await reader.next()).toMatchObject({ name: 'a.bin' });
    for await (const _ of reader.body()) break; // one chunk, then give up on this file
    expect(await reader.next()).toMatchObject({ name: 'gone', code: 'NOT_FOUND' });
    expect(await reader.next()).toMatchObject({ name: 'empty' }); // body of 0 bytes never read
    expect(await reader.next()).toEqual({ end: true, files: 3 });
  });

  it('a stream cut anywhere before its end frame is an error, never a short file', async () => {
    for (const cut of [0, 2, 10, 4 + 40, fileFrame('a.bin', a).length - 1, stream.length - 1]) {
      const err = await readAll(new FrameReader(pieces(stream.subarray(0, cut), 512))).catch((e: unknown) => e);
      expect(err, `cut at ${cut}`).toBeInstanceOf(FrameStreamError);
    }
  });

  it('refuses what is not a frame stream', async () => {
    const bad = [
      Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), // a huge header length
      Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('nope!')]), // not JSON
      encodeFrameHeader({ name: 'x', ok: true } as unknown as TFrameHeader), // no size or checksum
      Buffer.concat([encodeFrameHeader({ end: true, files: 0 }), Buffer.from('extra')]), // bytes after the end
    ];
    for (const b of bad) expect(await readAll(new FrameReader(pieces(b, 64))).catch((e: unknown) => e)).toBeInstanceOf(FrameStreamError);
    expect(encodeFrameHeader({ end: true, files: 0 }).readUInt32BE(0)).toBeLessThan(MAX_FRAME_HEADER_BYTES);
  });

  it('a source that fails is a FrameStreamError with the cause', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield stream.subarray(0, 100);
      throw new Error('socket hang up');
    }
    const err = await readAll(new FrameReader(failing())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FrameStreamError);
    expect((err as Error).message).toContain('socket hang up');
  });
});
