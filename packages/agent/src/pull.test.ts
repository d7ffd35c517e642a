import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { AgentClient, isAgentError } from '@zkha/storage';

import { entries, raw, seed, sha256, startTestAgent, type TestAgent } from './test-helpers.ts';

const running: TestAgent[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
  await Promise.all(
    servers.splice(0).map((s) => {
      const closed = new Promise((resolve) => s.close(resolve));
      s.closeAllConnections();
      return closed;
    }),
  );
});

/**
 * A real HTTP server in front of a real agent that forwards everything, except that `route` decides what to do with
 * POST /v1/files:read: stand in for an older agent without it, or cut its stream off after some bytes.
 */
async function inFront(
  target: TestAgent,
  route: (req: http.IncomingMessage, res: http.ServerResponse, forward: () => Promise<http.IncomingMessage>) => void,
): Promise<string> {
  const { port } = new URL(target.server.url);
  const server = http.createServer((req, res) => {
    const forward = () =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, resolve);
        up.once('error', reject);
        req.pipe(up);
      });
    if (req.url === '/v1/files:read') return route(req, res, forward);
    void forward().then((up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
async function agent(opts: Parameters<typeof startTestAgent>[0] = {}): Promise<TestAgent> {
  const a = await startTestAgent(opts);
  running.push(a);
  return a;
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

    const res = await target.client.pull(source.client, [
      good!,
      rotten!,
      lying!,
      missing,
      wrongSize,
      { name: '../escape', sha256: good!.sha256, sizeBytes: 4096 },
    ]);
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
    for (const body of [
      '{',
      '{"files":[]}',
      '{"source":{"url":"file:///etc","token":"t"},"files":[]}',
      '{"source":{"url":"http://x","token":"t"},"files":[{"name":"a"}]}',
    ]) {
      const res = await raw(target.server.url, 'POST', '/v1/pull', headers, Buffer.from(body));
      expect([res.status, JSON.parse(res.body).code], body).toEqual([400, 'BAD_INPUT']);
    }
    const err = await target.client.pull({ url: target.client.url, token: 't' }, [], { bytesPerSec: -1 }).catch((e: unknown) => e);
    expect(isAgentError(err, 'BAD_INPUT')).toBe(true);
  });

  it('a source without POST /v1/files:read (an older agent) still serves the batch, file by file', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    const files = await seed(source, 30, () => 2000);
    let refused = 0;
    const url = await inFront(source, (req, res) => {
      refused++;
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: 'no route' }));
    });
    const res = await target.client.pull({ url, token: source.token }, files);
    expect(res.results.every((r) => r.ok && r.created)).toBe(true);
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(2); // once per group already in flight (two of 15 files here), then remembered
    expect((await target.client.usage()).files).toBe(30);
  });

  it('a framed stream cut off midway keeps the files completed before the cut, and a retry brings the rest', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    const files = await seed(source, 40, () => 3000);
    const url = await inFront(source, (req, res, forward) => {
      void forward().then(async (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        let sent = 0;
        for await (const c of up as AsyncIterable<Buffer>) {
          const room = 10 * 3100 + 1500 - sent; // ten files and a half
          if (room <= 0) break;
          res.write(c.subarray(0, room));
          sent += Math.min(room, c.length);
        }
        up.destroy();
        res.destroy(); // no end frame, no chunked terminator: a broken stream
      });
    });
    const res = await target.client.pull({ url, token: source.token }, files, { concurrency: 1 });
    const ok = res.results.filter((r) => r.ok).map((r) => r.name);
    expect(ok.length).toBeGreaterThanOrEqual(9);
    expect(ok).toEqual(files.slice(0, ok.length).map((f) => f.name)); // a prefix: what came before the cut
    for (const r of res.results.slice(ok.length)) expect(r).toMatchObject({ ok: false, code: 'SOURCE_UNAVAILABLE' });
    expect(await entries(target.dir)).toEqual(ok); // published whole, nothing partial, no .part
    expect((await target.client.usage()).reservedBytes).toBe(0);
    const retry = await target.client.pull(source.client, files);
    expect(retry.results.filter((r) => r.ok && r.created).length).toBe(40 - ok.length);
    expect(retry.bytes).toBe((40 - ok.length) * 3000);
  });

  it('where `sync -f` is missing, a batch is made durable file by file instead', async () => {
    const source = await agent({ node: 'src' });
    const files = await seed(source, 20, () => 1000);
    const dir = await mkdtemp(path.join(tmpdir(), 'zkha-agent-nosync-'));
    const token = randomBytes(24).toString('base64url');
    // No PATH: the agent cannot find `sync` and falls back to fdatasync per file.
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./data-server.child.ts', import.meta.url)), dir, '10000'],
      {
        env: { ...process.env, PATH: '/nonexistent', ZKHA_AGENT_TOKEN: token },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const target = new AgentClient({ url: line.toString().trim(), token });
      const res = await target.pull(source.client, files);
      expect(res.results.filter((r) => !r.ok)).toEqual([]);
      expect(await entries(dir)).toEqual(files.map((f) => f.name));
      target.close();
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the cap is the node's: two batches pulled into one agent at once share it", async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    // Small files (grouped, paid for before they are asked for) in one batch, large ones (ranges) in the other.
    const small = await seed(source, 64, () => 16 * 1024, 's');
    const large = await seed(source, 2, () => 512 * 1024, 'l');
    const rate = 1024 * 1024;
    const t0 = performance.now();
    const [a, b] = await Promise.all([
      target.client.pull(source.client, small, { bytesPerSec: rate }),
      target.client.pull(source.client, large, { bytesPerSec: rate }),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    expect([...a.results, ...b.results].every((r) => r.ok)).toBe(true);
    const measured = (a.bytes + b.bytes) / seconds;
    console.log(
      `[figure] two batches into one node: ${a.bytes + b.bytes} bytes in ${seconds.toFixed(2)} s at a node cap of ${rate} B/s: ${(measured / rate).toFixed(3)} of the cap`,
    );
    expect(Math.abs(measured - rate) / rate).toBeLessThanOrEqual(0.1);
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
    console.log(
      `[figure] pulled ${res.bytes} bytes in ${seconds.toFixed(2)} s at a cap of ${rate} B/s: ${(measured / rate).toFixed(3)} of the cap`,
    );
    expect(Math.abs(measured - rate) / rate).toBeLessThanOrEqual(0.1);
  });
});

describe('following a pull while it runs', () => {
  it('GET /v1/pulls/<id> tells the bytes received so far, 404 before and after; a bad id is refused', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    const files = await seed(source, 4, () => 256 * 1024);
    expect(await target.client.pullProgress('batch-1')).toBeNull();
    const running = target.client.pull(source.client, files, { bytesPerSec: 512 * 1024, concurrency: 1, id: 'batch-1' });
    const seen: number[] = [];
    await expect
      .poll(
        async () => {
          const p = await target.client.pullProgress('batch-1');
          if (p) seen.push(p.bytes);
          return p?.bytes ?? 0;
        },
        { timeout: 5_000, interval: 100 },
      )
      .toBeGreaterThan(0);
    expect((await running).results.every((r) => r.ok)).toBe(true);
    expect(await target.client.pullProgress('batch-1')).toBeNull();
    // Never more than the batch, and growing.
    expect(Math.max(...seen)).toBeLessThanOrEqual(4 * 256 * 1024);
    const bad = await target.client.pull(source.client, files, { id: 'no spaces/allowed' }).catch((e: unknown) => e);
    expect(isAgentError(bad, 'BAD_INPUT')).toBe(true);
  });
});

describe('the same-host fast path (link: true)', () => {
  it('hard-links files from a source it can see on its filesystem, verifying each by its bytes', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    const files = [...(await seed(source, 30, (i) => 1 + i * 100)), ...(await seed(source, 1, () => 400 * 1024, 'big'))];
    const res = await target.client.pull(source.client, files, { link: true });
    expect(res.results.filter((r) => !r.ok)).toEqual([]);
    expect([res.linked, res.bytes]).toEqual([31, 0]); // nothing on the wire
    for (const f of [files[0]!, files[30]!])
      expect((await stat(path.join(target.dir, f.name))).ino).toBe((await stat(path.join(source.dir, f.name))).ino);
    expect(await entries(target.dir)).toEqual(files.map((f) => f.name).sort()); // no probe, no .part
    expect((await target.client.usage()).files).toBe(31);
    // The source deleting its name (the end of a move) leaves the target's copy whole.
    await source.client.deleteMany(files.map((f) => ({ name: f.name, ifSha256: f.sha256 })));
    expect(sha256(await readFile(path.join(target.dir, files[30]!.name)))).toBe(files[30]!.sha256);
  });

  it('never trusts the source: a file whose bytes do not match is refused, a retry is a no-op, a cap means HTTP', async () => {
    const source = await agent({ node: 'src' });
    const target = await agent({ node: 'dst' });
    const [good, rotten, later] = await seed(source, 3, () => 4096);
    const rottenPath = path.join(source.dir, rotten!.name);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    await utimes(rottenPath, at, at);
    await source.client.stat(rotten!.name); // the source caches its checksum at this identity...
    const flipped = await readFile(rottenPath);
    flipped[7] = flipped[7]! ^ 0xff;
    await writeFile(rottenPath, flipped);
    await utimes(rottenPath, at, at); // ...and still believes it
    const res = await target.client.pull(source.client, [good!, rotten!], { link: true });
    expect(res.results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'CHECKSUM_MISMATCH']);
    expect(await entries(target.dir)).toEqual([good!.name]);
    const again = await target.client.pull(source.client, [good!], { link: true });
    expect(again.results[0]).toMatchObject({ ok: true, created: false });
    const capped = await target.client.pull(source.client, [later!], { link: true, bytesPerSec: 1024 * 1024 });
    expect([capped.results[0]!.ok, capped.linked, capped.bytes]).toEqual([true, 0, 4096]);
  });

  it.skipIf(!existsSync('/dev/shm'))('between two filesystems there is no link: the batch goes over HTTP', async () => {
    const shm = await mkdtemp('/dev/shm/zkha-agent-link-');
    try {
      const source = await agent({ node: 'src', folder: shm });
      const target = await agent({ node: 'dst' });
      expect((await source.client.usage()).filesystemId).not.toBe((await target.client.usage()).filesystemId);
      const files = await seed(source, 10, () => 2048);
      const res = await target.client.pull(source.client, files, { link: true });
      expect(res.results.every((r) => r.ok && r.created)).toBe(true);
      expect([res.linked, res.bytes]).toEqual([0, 10 * 2048]);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});
