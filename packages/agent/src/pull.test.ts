import { randomBytes } from 'node:crypto';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { isAgentError, type TPullFile } from '@zkha/storage';

import { entries, raw, sha256, startTestAgent, type TestAgent } from './test-helpers.ts';

const running: TestAgent[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});
async function agent(opts: Parameters<typeof startTestAgent>[0] = {}): Promise<TestAgent> {
  const a = await startTestAgent(opts);
  running.push(a);
  return a;
}

/** Puts `count` random files on `a` and returns what a pull request needs to know of them. */
async function seed(a: TestAgent, count: number, size: (i: number) => number, prefix = 'f'): Promise<TPullFile[]> {
  const files: TPullFile[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = randomBytes(size(i));
    const f = { name: `${prefix}-${String(i).padStart(4, '0')}`, sha256: sha256(bytes), sizeBytes: bytes.length };
    await a.client.put(f.name, bytes, f);
    files.push(f);
  }
  return files;
}

describe('POST /v1/pull: the target fetches from the source agent', () => {
  it('moves a batch of 200 small files in one request, each verified, and a retried batch is a no-op', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    const files = await seed(source, 200, (i) => 1 + ((i * 997) % 8192));
    const res = await target.client.pull(source.client, files);
    expect(res.results.filter((r) => !r.ok)).toEqual([]);
    expect(res.results.map((r) => r.name)).toEqual(files.map((f) => f.name)); // request order
    expect(res.bytes).toBe(files.reduce((a, f) => a + f.sizeBytes, 0));
    const listed = [];
    for await (const f of target.client.listAll(64)) listed.push({ name: f.name, sha256: f.sha256, sizeBytes: f.sizeBytes });
    expect(listed).toEqual(files);
    // What landed on disk is the bytes, not just what the agent says.
    for (const f of files.slice(0, 20)) expect(sha256(await readFile(path.join(target.dir, f.name)))).toBe(f.sha256);
    expect((await target.client.usage()).files).toBe(200);

    const again = await target.client.pull(source.client, files);
    expect(again.results.every((r) => r.ok && !r.created)).toBe(true);
    expect(again.bytes).toBe(0);
  });

  it('refuses, file by file, what the source serves wrong; the good files of the batch still land', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    const [good, rotten, lying, short] = await seed(source, 4, () => 4096);
    // Bit rot the source has noticed: its ETag (a fresh hash) already disagrees, refused before the transfer.
    await writeFile(path.join(source.dir, rotten!.name), randomBytes(4096));
    // Bit rot the source has not noticed: same inode, size and mtime, so its cached checksum still claims the
    // old content. Only hashing the bytes as they land catches this one.
    const lyingPath = path.join(source.dir, lying!.name);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    await utimes(lyingPath, at, at);
    expect((await source.client.stat(lying!.name)).sha256).toBe(lying!.sha256); // cached at this identity
    const flipped = await readFile(lyingPath);
    flipped[100] = flipped[100]! ^ 0xff;
    await writeFile(lyingPath, flipped);
    await utimes(lyingPath, at, at);
    expect((await source.client.stat(lying!.name)).sha256).toBe(lying!.sha256); // the source still believes it
    const missing = { name: 'not-there', sha256: good!.sha256, sizeBytes: 4096 };
    const wrongSize = { ...short!, sizeBytes: 5000 };

    const res = await target.client.pull(source.client, [good!, rotten!, lying!, missing, wrongSize, { name: '../escape', sha256: good!.sha256, sizeBytes: 4096 }]);
    const outcome = Object.fromEntries(res.results.map((r) => [r.name, r.ok ? 'ok' : r.code]));
    expect(outcome).toEqual({
      [good!.name]: 'ok',
      [rotten!.name]: 'CHECKSUM_MISMATCH',
      [lying!.name]: 'CHECKSUM_MISMATCH',
      'not-there': 'NOT_FOUND',
      [short!.name]: 'LENGTH_MISMATCH',
      '../escape': 'BAD_INPUT',
    });
    expect(await entries(target.dir)).toEqual([good!.name]); // no .part, nothing corrupt visible
    expect((await target.client.usage()).reservedBytes).toBe(0);
  });

  it('answers per file NODE_FULL past the target capacity, and UNAUTHORIZED with the wrong source token', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst', capacityBytes: 25_000 });
    const files = await seed(source, 3, () => 10_000);
    const res = await target.client.pull(source.client, files, { concurrency: 1 });
    expect(res.results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'ok', 'NODE_FULL']);
    const full = res.results[2]!;
    expect(!full.ok && full.details).toMatchObject({ requestedBytes: 10_000, freeBytes: 5_000, capacityBytes: 25_000 });

    const other = await agent({ node: 'dst2' });
    const denied = await other.client.pull({ url: source.client.url, token: 'wrong-token-wrong-token' }, files.slice(0, 1));
    expect(denied.results[0]).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    expect(await entries(other.dir)).toEqual([]);
  });

  it('refuses a malformed batch as a whole with 400', async () => {
    const target = await agent();
    const headers = { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' };
    for (const body of ['{', '{"files":[]}', '{"source":{"url":"file:///etc","token":"t"},"files":[]}', '{"source":{"url":"http://x","token":"t"},"files":[{"name":"a"}]}']) {
      const res = await raw(target.server.url, 'POST', '/v1/pull', headers, Buffer.from(body));
      expect([res.status, JSON.parse(res.body).code], body).toEqual([400, 'BAD_INPUT']);
    }
    const err = await target.client.pull({ url: target.client.url, token: 't' }, [], { bytesPerSec: -1 }).catch((e: unknown) => e);
    expect(isAgentError(err, 'BAD_INPUT')).toBe(true);
  });

  it('holds a bytesPerSec cap on the pulled bytes within 10%', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    // 3 MiB in six files, two at a time: the cap is one bucket for the whole batch, not one per file.
    const files = await seed(source, 6, () => 512 * 1024);
    const rate = 1024 * 1024;
    const t0 = performance.now();
    const res = await target.client.pull(source.client, files, { bytesPerSec: rate, concurrency: 2 });
    const seconds = (performance.now() - t0) / 1000;
    expect(res.results.every((r) => r.ok)).toBe(true);
    const measured = res.bytes / seconds;
    console.log(`[figure] pulled ${res.bytes} bytes in ${seconds.toFixed(2)} s at a cap of ${rate} B/s: ${(measured / rate).toFixed(3)} of the cap`);
    expect(Math.abs(measured - rate) / rate).toBeLessThanOrEqual(0.1);
  });
});
