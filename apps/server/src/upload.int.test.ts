import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootTestServer, eventually, type TestServer } from './testing.ts';

/** Uploads cut short or too large over a real socket: nothing may be left behind anywhere. */
let t: TestServer;
beforeAll(async () => {
  // The embedded default's capacity for zk1 and zk2 (STORAGE_NODE_CAPACITY unset), a small one for zk3.
  t = await bootTestServer({
    UPLOAD_MAX_BYTES: String(256 * 1024),
    RATE_LIMIT_WORK_PER_MINUTE: '1000',
    STORAGE_NODE_CAPACITIES: 'zk3:1MiB',
  });
});
afterAll(async () => {
  await t?.close();
});

/** Every name in the agents' folders (temp files included: the test looks; the control plane never does), rows, znodes. */
async function everywhere() {
  const { db, session } = t.server.services;
  const disk: string[] = [];
  for (const n of ['zk1', 'zk2', 'zk3'])
    disk.push(...(await readdir(path.join(t.dir, 'uploads', n))).filter((f) => !f.startsWith('.zkha-')).map((f) => `${n}/${f}`));
  return {
    disk: disk.sort(),
    rows: t.server.services.files.list({ limit: 500, offset: 0 }).total,
    znodes: (await session.client.children('/zkha/files')).length,
    db: !!db,
  };
}

describe('uploads that do not complete', () => {
  it('a client that disconnects mid-body leaves no file, no temp file, no row and no znode', async () => {
    const before = await everywhere();
    const { port } = new URL(t.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/api/files/upload?node=zk1&name=cut-short.bin',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(200 * 1024) },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(64 * 1024, 7));
      // A third of the declared body: once the server is taking it (room held on zk1 for its bytes), the connection drops.
      void eventually(() => t.server.services.capacities.of('zk1').incomingBytes > 0, 10_000, 'the upload to be under way').then(() => {
        req.destroy();
        resolve();
      });
    });
    // The server notices the closed socket and removes the partial write.
    await eventually(
      async () => JSON.stringify(await everywhere()) === JSON.stringify(before),
      10_000,
      'nothing left of the cut-short upload',
    );
    const ops = await fetch(`${t.url}/api/operations?limit=5`);
    expect(ops.status).toBe(200);
  });

  it('a body over UPLOAD_MAX_BYTES is refused with 413 and leaves nothing behind', async () => {
    const before = await everywhere();
    const res = await fetch(`${t.url}/api/files/upload?node=zk2&name=too-big.bin`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(300 * 1024, 1),
    });
    expect(res.status).toBe(413);
    const body = await res.text();
    expect(body).toMatch(/262144|256 KiB|256\.0 KiB/);
    expect(await everywhere()).toEqual(before);
  });

  it('a wrong checksum is refused with 422 and leaves nothing behind', async () => {
    const before = await everywhere();
    const res = await fetch(`${t.url}/api/files/upload?node=zk3&name=bad-sum.bin&sha256=${'a'.repeat(64)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from('these bytes do not hash to aaaa…'),
    });
    expect(res.status).toBe(422);
    expect(await everywhere()).toEqual(before);
  });
});

describe('node capacity', () => {
  it('the embedded default gives each node 1 GiB, not its disk; an override applies to its node', async () => {
    const { storageNodes, capacities } = t.server.services;
    expect(storageNodes.list().map((n) => [n.node, n.capacityBytes])).toEqual([
      ['zk1', 1024 ** 3],
      ['zk2', 1024 ** 3],
      ['zk3', 1024 ** 2],
    ]);
    // The three agents' folders share one disk: its size is nobody's capacity, and its free space bounds none.
    expect(capacities.of('zk1')).toMatchObject({ capacityBytes: 1024 ** 3, source: 'configured', ownFilesystem: false });
    // The agents are given the same capacities, and report their filesystem apart from them: one disk, one id.
    const alive = ['zk1', 'zk3'].map((n) => t.server.services.liveness!.alive(n)!);
    expect(alive.map((a) => a.capacityBytes)).toEqual([1024 ** 3, 1024 ** 2]);
    expect(alive[0]!.filesystemBytes).toBeGreaterThan(0);
    expect(alive[0]!.filesystemId).toBeTruthy();
    expect(alive[1]!.filesystemId).toBe(alive[0]!.filesystemId);
  });

  it("a stress or an upload past its node's capacity is refused with 507 NODE_FULL and the figures, leaving nothing behind", async () => {
    const stress = (files: number) =>
      fetch(`${t.url}/api/demo/stress`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ node: 'zk3', files, size_kb: 64 }),
      });
    const used = t.server.services.capacities.of('zk3').usedBytes;
    expect((await stress(Math.floor((1024 ** 2 - used) / (64 * 1024)))).status).toBe(200);
    const full = t.server.services.capacities.of('zk3').usedBytes;

    const refused = await stress(1);
    expect(refused.status).toBe(507);
    expect(await refused.json()).toMatchObject({
      error: { code: 'NODE_FULL', message: expect.stringMatching(/^zk3 is full: .* of 1\.0 MiB used, the file needs 64\.0 KiB$/) },
    });

    const before = await everywhere();
    const res = await fetch(`${t.url}/api/files/upload?node=zk3&name=no-room.bin`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(128 * 1024, 3),
    });
    expect(res.status).toBe(507);
    expect(await res.json()).toMatchObject({
      error: {
        code: 'NODE_FULL',
        message: expect.stringMatching(/^zk3 is full: .* of 1\.0 MiB used, the file needs more than the .* left$/),
      },
    });
    expect(await everywhere()).toEqual(before);
    expect(t.server.services.capacities.of('zk3').usedBytes).toBe(full);
  });
});

describe('downloads', () => {
  it('serves a file from its agent, whole and by range, with its checksum as ETag; an unknown uuid is 404, a bad range 400', async () => {
    const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const up = await fetch(`${t.url}/api/files/upload?node=zk2&name=served.bin`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(up.status).toBe(200);
    const file = (await up.json()) as { uuid: string; sha256: string };
    const whole = await fetch(`${t.url}/api/files/${file.uuid}/content`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).toBe(`"${file.sha256}"`);
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename="served.bin"');
    expect(Buffer.from(await whole.arrayBuffer()).equals(body)).toBe(true);
    const part = await fetch(`${t.url}/api/files/${file.uuid}/content`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/5000');
    expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(100, 200))).toBe(true);
    expect((await fetch(`${t.url}/api/files/00000000-0000-4000-8000-000000000000/content`)).status).toBe(404);
    const bad = await fetch(`${t.url}/api/files/${file.uuid}/content`, { headers: { range: 'bytes=-5' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/not supported/);
  });
});
