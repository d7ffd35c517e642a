import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';

import { locationOf, parseLocation } from './file-storage.ts';
import { spool, SPOOL_MEMORY_BYTES } from './spool.ts';
import { expectAppError, sha256, useTempDirs } from './test-helpers.ts';

async function* chunksOf(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size);
}

async function bytesOf(body: Uint8Array | Readable): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body);
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('spool', () => {
  const tempDir = useTempDirs();

  it('keeps a small body in memory with its length and checksum', async () => {
    const data = randomBytes(10_000);
    const dir = await tempDir();
    const s = await spool(chunksOf(data, 999), { maxBytes: 20_000, dir });
    expect(s.sizeBytes).toBe(10_000);
    expect(s.sha256).toBe(sha256(data));
    expect((await bytesOf(s.body())).equals(data)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes a large body to a temp file, replays it, and removes it when disposed', async () => {
    const data = randomBytes(SPOOL_MEMORY_BYTES * 2 + 17);
    const dir = await tempDir();
    const s = await spool(chunksOf(data, 65_536), { maxBytes: data.byteLength, dir });
    expect(await readdir(dir)).toHaveLength(1);
    expect((await bytesOf(s.body())).equals(data)).toBe(true);
    expect((await bytesOf(s.body())).equals(data)).toBe(true);
    await s.dispose();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a body over maxBytes and leaves nothing behind', async () => {
    const dir = await tempDir();
    const err = await expectAppError(
      () => spool(chunksOf(randomBytes(SPOOL_MEMORY_BYTES * 2), 65_536), { maxBytes: SPOOL_MEMORY_BYTES + 1, dir }),
      'PAYLOAD_TOO_LARGE',
    );
    expect(err.details).toEqual({ maxBytes: SPOOL_MEMORY_BYTES + 1 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses other content than the expected checksum', async () => {
    const data = randomBytes(100);
    await expectAppError(
      () => spool(chunksOf(data, 10), { maxBytes: 100, expectedSha256: sha256(Buffer.from('other')) }),
      'CHECKSUM_MISMATCH',
    );
    const ok = await spool(chunksOf(data, 10), { maxBytes: 100, expectedSha256: sha256(data).toUpperCase() });
    expect(ok.sizeBytes).toBe(100);
  });

  it('turns a failing source into BAD_INPUT and removes its temp file', async () => {
    const dir = await tempDir();
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(SPOOL_MEMORY_BYTES + 10);
        throw new Error('client went away');
      })(),
    );
    const err = await expectAppError(() => spool(failing, { maxBytes: 10 * SPOOL_MEMORY_BYTES, dir }), 'BAD_INPUT');
    expect(err.message).toMatch(/client went away/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('locations', () => {
  it('joins a node and a name and splits them back', () => {
    expect(locationOf('zk2', 'demo-1.bin')).toBe('zk2/demo-1.bin');
    expect(parseLocation('zk2/demo-1.bin')).toEqual({ node: 'zk2', name: 'demo-1.bin' });
  });

  it.each(['zk2', '/x', 'zk2/', 'a/b/c', '/data/uploads/zk1/x.bin'])('refuses %j', (loc) => {
    expect(parseLocation(loc)).toBeNull();
  });
});
