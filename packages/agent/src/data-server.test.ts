import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { AgentClient, isAgentError, type AgentError } from '@zkha/storage';

import { parseRange } from './data-server.ts';
import { entries, raw, sha256, testAgentsStoppedAfterEach } from './test-helpers.ts';

const agent = testAgentsStoppedAfterEach();

async function caught(p: Promise<unknown>): Promise<AgentError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAgentError(err), `expected an AgentError, got ${String(err)}`).toBe(true);
  return err as AgentError;
}

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('files: put, get, head, list, delete', () => {
  it('round-trips a file, streamed both ways, with checksum and mtime', async () => {
    const { client, dir } = await agent();
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const sum = sha256(bytes);
    // A stream body of many chunks, larger than the Expect: 100-continue threshold.
    const chunks = Array.from({ length: 50 }, (_, i) =>
      bytes.subarray(Math.floor((i * bytes.length) / 50), Math.floor(((i + 1) * bytes.length) / 50)),
    );
    expect(await client.put('report 1.bin', Readable.from(chunks), { sha256: sum, sizeBytes: bytes.length })).toEqual({
      name: 'report 1.bin',
      sizeBytes: bytes.length,
      sha256: sum,
      created: true,
    });
    // Buffer.equals, not toEqual: a deep compare of megabytes stalls the event loop for seconds.
    expect((await readFile(path.join(dir, 'report 1.bin'))).equals(bytes)).toBe(true);
    expect(await entries(dir)).toEqual(['report 1.bin']); // no .part left behind

    const got = await client.get('report 1.bin');
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(sum);
    expect((await collect(got)).equals(bytes)).toBe(true);

    const st = await client.stat('report 1.bin');
    expect(st).toMatchObject({ name: 'report 1.bin', sizeBytes: bytes.length, sha256: sum });
    // Node's Stats.mtime rounds mtimeMs to the millisecond (flooring it was off by one in a CI run).
    expect(Date.parse(st.modifiedAt)).toBe((await stat(path.join(dir, 'report 1.bin'))).mtime.getTime());

    expect((await client.list()).files).toEqual([st]);
    expect(await client.delete('report 1.bin')).toBe(true);
    expect(await client.delete('report 1.bin')).toBe(false); // idempotent: a retry is not an error
    expect((await caught(client.stat('report 1.bin'))).code).toBe('NOT_FOUND');
    expect((await caught(client.get('report 1.bin'))).status).toBe(404);
    expect(await entries(dir)).toEqual([]);
  });

  it('serves byte ranges with 206 and refuses ranges past the end with 416', async () => {
    const { client } = await agent();
    const bytes = randomBytes(10_000);
    await client.put('r.bin', bytes, { sha256: sha256(bytes), sizeBytes: bytes.length });
    const mid = await client.get('r.bin', { start: 100, end: 199 });
    expect([mid.status, mid.sizeBytes, mid.totalBytes]).toEqual([206, 100, 10_000]);
    expect(await collect(mid)).toEqual(bytes.subarray(100, 200));
    expect(await collect(await client.get('r.bin', { start: 9_990 }))).toEqual(bytes.subarray(9_990));
    const past = await caught(client.get('r.bin', { start: 10_000 }));
    expect([past.status, past.code]).toEqual([416, 'RANGE_NOT_SATISFIABLE']);
    expect(parseRange('bytes=-100', 10_000)).toEqual({ start: 9_900, end: 9_999 });
    expect(parseRange('bytes=0-1,5-6', 10)).toBeNull(); // several ranges: the whole file
  });

  it('pages a listing sorted by name, with checksums, and iterates over all pages', async () => {
    const { client } = await agent();
    const names = Array.from({ length: 25 }, (_, i) => `f-${String(i).padStart(3, '0')}`);
    for (const n of [...names].reverse()) await client.put(n, Buffer.from(n), { sha256: sha256(Buffer.from(n)), sizeBytes: n.length });
    const first = await client.list(null, 10);
    expect(first.files.map((f) => f.name)).toEqual(names.slice(0, 10));
    expect(first.files[0]!.sha256).toBe(sha256(Buffer.from(names[0]!)));
    expect(first.next).toBe(names[9]);
    const last = await client.list(names[19], 10);
    expect([last.files.length, last.next]).toEqual([5, null]);
    const all: string[] = [];
    for await (const f of client.listAll(7)) all.push(f.name);
    expect(all).toEqual(names);
    expect((await caught(client.list(null, 1001))).code).toBe('BAD_INPUT');
  });

  it('a retried put of the same content succeeds; other content under the name is a 409', async () => {
    const { client } = await agent();
    const a = Buffer.from('same content');
    const put = () => client.put('x', a, { sha256: sha256(a), sizeBytes: a.length });
    expect((await put()).created).toBe(true);
    expect(await put()).toMatchObject({ created: false, sha256: sha256(a) });
    const b = Buffer.from('other content');
    const err = await caught(client.put('x', b, { sha256: sha256(b), sizeBytes: b.length }));
    expect([err.status, err.code]).toEqual([409, 'CONFLICT']);
    expect(await collect(await client.get('x'))).toEqual(a);
  });

  it('removes at start every temp file a killed run left, however young; keeps the files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'zkha-agent-restart-'));
    try {
      await writeFile(path.join(dir, '.demo-1.bin.abc1.part'), 'half a file, a second old');
      await writeFile(path.join(dir, 'kept.bin'), 'a whole file');
      const { client } = await agent({ folder: dir });
      expect((await readdir(dir)).sort()).toEqual(['kept.bin']);
      expect((await client.stat('kept.bin')).sizeBytes).toBe(12);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hashes a file found on disk once, and again when it changes (cache keyed by inode, mtime, size)', async () => {
    const { client, dir } = await agent();
    await writeFile(path.join(dir, 'found'), 'v1');
    expect((await client.stat('found')).sha256).toBe(sha256(Buffer.from('v1')));
    await writeFile(path.join(dir, 'found'), 'v2');
    await utimes(path.join(dir, 'found'), new Date(), new Date(Date.now() + 5_000));
    expect((await client.stat('found')).sha256).toBe(sha256(Buffer.from('v2')));
  });

  it('a request on a kept-alive socket the agent has just closed is sent again, not failed', async () => {
    // The agent in its own process, so it closes the idle socket while this test's event loop is blocked.
    const dir = await mkdtemp(path.join(tmpdir(), 'zkha-agent-child-'));
    const token = randomBytes(24).toString('base64url');
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./data-server.child.ts', import.meta.url)), dir, '2000'],
      {
        env: { ...process.env, ZKHA_AGENT_TOKEN: token },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const client = new AgentClient({ url: line.toString().trim(), token });
      await client.usage();
      // Past the agent's 2 s keep-alive (Node closes at 3 s; the client's own idle timer is due at 1 s): the agent
      // has closed the socket, but this loop has not seen it, so the next request goes out on it.
      const until = Date.now() + 3_500;
      while (Date.now() < until) {
        /* blocked on purpose */
      }
      expect((await client.usage()).files).toBe(0);
      client.close();
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('deletes with If-Match only the content it names', async () => {
    const { client } = await agent();
    const a = Buffer.from('a');
    await client.put('d', a, { sha256: sha256(a), sizeBytes: 1 });
    const err = await caught(client.delete('d', { ifSha256: sha256(Buffer.from('b')) }));
    expect([err.status, err.code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect(await client.delete('d', { ifSha256: sha256(a) })).toBe(true);
  });
});

describe('many files per request: POST /v1/files:read and POST /v1/files:delete', () => {
  it('reads files in request order as one framed stream, with a failure frame for each file it cannot serve', async () => {
    const { client } = await agent();
    const small = randomBytes(4096);
    const large = randomBytes(300 * 1024 + 5); // past the small-file size: streamed from its handle, not read whole
    const empty = Buffer.alloc(0);
    for (const [name, bytes] of [
      ['s', small],
      ['l', large],
      ['e', empty],
    ] as const)
      await client.put(name, bytes, { sha256: sha256(bytes), sizeBytes: bytes.length });
    const got: (string | number)[][] = [];
    for await (const item of client.readMany([
      { name: 'l', sha256: sha256(large) },
      { name: 'missing' },
      { name: 's' },
      { name: 'e' },
      { name: 's', sha256: sha256(large) },
      { name: '../x' },
    ])) {
      got.push(item.ok ? [item.name, sha256(await collect(item.body)), item.sizeBytes] : [item.name, item.code]);
    }
    expect(got).toEqual([
      ['l', sha256(large), large.length],
      ['missing', 'NOT_FOUND'],
      ['s', sha256(small), 4096],
      ['e', sha256(empty), 0],
      ['s', 'CHECKSUM_MISMATCH'], // served only as the content asked for
      ['../x', 'BAD_INPUT'],
    ]);
    // Items whose bodies are left unread are skipped.
    let seen = 0;
    for await (const item of client.readMany([{ name: 'l' }, { name: 's' }])) seen += item.ok ? 1 : 0;
    expect(seen).toBe(2);
    expect((await client.usage()).files).toBe(3);
  });

  it('refuses a malformed list as a whole with 400, and answers nothing without the token', async () => {
    const { server, token } = await agent();
    for (const [p, body] of [
      ['/v1/files:read', '{"names":["a"]}'],
      ['/v1/files:read', '{"files":[{"name":"a","sha256":"xyz"}]}'],
      ['/v1/files:delete', '{"files":"a"}'],
      ['/v1/files:delete', 'not json'],
    ]) {
      const res = await raw(
        server.url,
        'POST',
        p!,
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        Buffer.from(body!),
      );
      expect([res.status, JSON.parse(res.body).code], `${p} ${body}`).toEqual([400, 'BAD_INPUT']);
    }
    expect((await raw(server.url, 'POST', '/v1/files:read', {}, Buffer.from('{"files":[]}'))).status).toBe(401);
    expect((await raw(server.url, 'GET', '/v1/files:read', { authorization: `Bearer ${token}` })).status).toBe(405);
  });

  it('deletes many files in one request, each only as the content it names; absent is deleted: false', async () => {
    const { client, dir } = await agent();
    const names = ['a', 'b', 'c', 'd'];
    for (const n of names) await client.put(n, Buffer.from(n), { sha256: sha256(Buffer.from(n)), sizeBytes: 1 });
    await writeFile(path.join(dir, 'found-on-disk'), 'x'); // checksum not cached yet: the slow path hashes it
    const res = await client.deleteMany([
      { name: 'a', ifSha256: sha256(Buffer.from('a')) },
      { name: 'b', ifSha256: sha256(Buffer.from('not b')) },
      { name: 'c' },
      { name: 'nope', ifSha256: sha256(Buffer.from('a')) },
      { name: '../d' },
      { name: 'found-on-disk', ifSha256: sha256(Buffer.from('x')) },
    ]);
    expect(res.results.map((r) => (r.ok ? `${r.name}:${r.deleted}` : `${r.name}:${r.code}`))).toEqual([
      'a:true',
      'b:PRECONDITION_FAILED',
      'c:true',
      'nope:false',
      '../d:BAD_INPUT',
      'found-on-disk:true',
    ]);
    expect(await entries(dir)).toEqual(['b', 'd']);
    expect((await client.usage()).files).toBe(2);
  });
});

describe('refusals: nothing partial is ever visible', () => {
  it('without the right token: 401, nothing written, nothing revealed', async () => {
    const { server, dir } = await agent();
    const body = Buffer.from('intruder');
    const headers = { 'x-zkha-sha256': sha256(body), 'content-length': body.length };
    for (const auth of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: 'Basic abc' },
    ]) {
      const res = await raw(server.url, 'PUT', '/v1/files/x', { ...headers, ...auth }, body);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    expect((await raw(server.url, 'GET', '/v1/usage')).status).toBe(401);
    expect((await raw(server.url, 'GET', '/no/such/route')).status).toBe(401); // routes are not revealed either
    const wrong = new AgentClient({ url: server.url, token: 'not-the-token-at-all' });
    expect((await caught(wrong.usage())).code).toBe('UNAUTHORIZED');
    wrong.close();
    expect(await entries(dir)).toEqual([]);
  });

  it('refuses names that would escape the folder or hide in it with 400 BAD_INPUT', async () => {
    const { server, token, dir } = await agent();
    const body = Buffer.from('x');
    const auth = { authorization: `Bearer ${token}`, 'x-zkha-sha256': sha256(body), 'content-length': 1 };
    for (const p of [
      '..%2F..%2Fetc%2Fpasswd',
      '..%2Fescape',
      '%2Fetc%2Fpasswd',
      '..',
      '.',
      '.hidden',
      'a%2Fb',
      'a%5Cb',
      'x.part',
      '%00',
      'a/../../b',
      '%E0%A4%A',
    ]) {
      const res = await raw(server.url, 'PUT', `/v1/files/${p}`, auth, body);
      expect(res.status, p).toBe(400);
      expect(JSON.parse(res.body).code, p).toBe('BAD_INPUT');
      expect((await raw(server.url, 'GET', `/v1/files/${p}`, { authorization: `Bearer ${token}` })).status, p).toBe(400);
    }
    expect(await entries(dir)).toEqual([]);
    expect(await entries(path.dirname(dir))).not.toContain('escape');
  });

  it('a checksum that does not match: 422 CHECKSUM_MISMATCH, no file, no .part', async () => {
    const { client, dir } = await agent();
    const bytes = randomBytes(600 * 1024);
    const err = await caught(client.put('c', bytes, { sha256: sha256(Buffer.from('something else')), sizeBytes: bytes.length }));
    expect([err.status, err.code]).toEqual([422, 'CHECKSUM_MISMATCH']);
    expect(await entries(dir)).toEqual([]);
    expect((await client.usage()).bytes).toBe(0);
  });

  it('a body shorter than declared: refused by the client, and by the agent when the sender breaks off', async () => {
    const { client, server, token, dir } = await agent();
    const bytes = randomBytes(1000);
    expect((await caught(client.put('l', bytes, { sha256: sha256(bytes), sizeBytes: 2000 }))).code).toBe('LENGTH_MISMATCH');
    // A stream that ends early: the client breaks the request off, the agent discards what it had.
    const short = Readable.from([bytes.subarray(0, 500)]);
    expect((await caught(client.put('l', short, { sha256: sha256(bytes), sizeBytes: bytes.length }))).code).toBe('LENGTH_MISMATCH');
    // A raw sender that declares 1000 bytes, sends 500 and half-closes.
    const { port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const sock = net.connect(Number(port), '127.0.0.1', () => {
        sock.write(
          `PUT /v1/files/l HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nx-zkha-sha256: ${sha256(bytes)}\r\nContent-Length: 1000\r\n\r\n`,
        );
        sock.end(bytes.subarray(0, 500));
      });
      sock.on('data', () => undefined);
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });
    // The agent notices the broken-off body, removes its .part file and gives the reservation back.
    await until(async () => (await entries(dir)).length === 0 && (await client.usage()).reservedBytes === 0);
  });

  it('a put without Content-Length is 411; over --max-file-bytes is 413 before a byte is read', async () => {
    const { client, server, token, dir } = await agent({ maxFileBytes: 1024 });
    const res = await raw(server.url, 'PUT', '/v1/files/n', {
      authorization: `Bearer ${token}`,
      'x-zkha-sha256': sha256(Buffer.from('')),
      'transfer-encoding': 'chunked',
    });
    expect([res.status, JSON.parse(res.body).code]).toEqual([411, 'LENGTH_REQUIRED']);
    const big = randomBytes(2048);
    const err = await caught(client.put('big', big, { sha256: sha256(big), sizeBytes: big.length }));
    expect([err.status, err.code, err.details?.['maxFileBytes']]).toEqual([413, 'PAYLOAD_TOO_LARGE', 1024]);
    expect(await entries(dir)).toEqual([]);
  });

  it('past its capacity a node answers 507 NODE_FULL with the figures, and usage tells the same story', async () => {
    const { client, dir } = await agent({ capacityBytes: 1_000_000 });
    const a = randomBytes(700_000);
    await client.put('a', a, { sha256: sha256(a), sizeBytes: a.length });
    const b = randomBytes(400_000); // over the 256 KiB threshold: refused before its body is sent
    const err = await caught(client.put('b', b, { sha256: sha256(b), sizeBytes: b.length }));
    expect([err.status, err.code]).toEqual([507, 'NODE_FULL']);
    expect(err.details).toMatchObject({ requestedBytes: 400_000, freeBytes: 300_000, capacityBytes: 1_000_000, usedBytes: 700_000 });
    expect(await entries(dir)).toEqual(['a']);
    const u = await client.usage();
    expect(u).toMatchObject({ node: 'zk1', files: 1, bytes: 700_000, capacityBytes: 1_000_000, freeBytes: 300_000, reservedBytes: 0 });
    expect(u.filesystemId).toMatch(/:\d+$/);
    const c = randomBytes(300_000); // exactly the room left
    expect((await client.put('c', c, { sha256: sha256(c), sizeBytes: c.length })).created).toBe(true);
  });

  it('two agents on one folder tree report the same filesystem id', async () => {
    const one = await agent();
    const two = await agent();
    expect((await one.client.usage()).filesystemId).toBe((await two.client.usage()).filesystemId);
  });
});
