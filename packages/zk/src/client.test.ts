/**
 * ZkClient against a real 3-node ensemble started with the shared test helper (one per file).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAppError } from '@zkha/core';
import { isZkError, ZkClient, type ZkClientState, type ZkWatchEvent } from './client.ts';
import { startTestEnsemble, getFreePort, type TestEnsemble } from '@zkha/zk-local/testing';

let zk: TestEnsemble;
let client: ZkClient;

beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
  client = await ZkClient.connect(zk.connectionString, { sessionTimeout: 4000 });
});

afterAll(async () => {
  await client?.close();
  if (zk) {
    const dir = zk.baseDir;
    await zk.stop();
    await zk.stop();
    expect(fs.existsSync(dir)).toBe(false); // the helper's temp folder is gone
  }
});

describe('connect', () => {
  it('is connected with a negotiated session', () => {
    expect(client.state).toBe('connected');
    expect(client.sessionTimeout).toBe(4000);
    expect(client.sessionId).toMatch(/^[0-9a-f]{16}$/);
    expect(zk.connectionString.split(',')).toContain(client.connectedServer);
  });

  it('gives up with ZK_UNAVAILABLE when nobody listens', async () => {
    const port = await getFreePort();
    const t0 = Date.now();
    const err = await ZkClient.connect(`127.0.0.1:${port}`, { connectTimeoutMs: 800 }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('ZK_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('CRUD', () => {
  it('create / get / set / exists / remove', async () => {
    expect(await client.exists('/crud')).toBe(false);
    expect(await client.create('/crud', 'one')).toBe('/crud');
    expect(await client.exists('/crud')).toBe(true);
    expect(await client.get('/crud')).toEqual({ data: Buffer.from('one'), version: 0 });
    expect(await client.set('/crud', Buffer.from('two'))).toBe(1);
    expect((await client.get('/crud')).data?.toString()).toBe('two');
    await client.remove('/crud');
    expect(await client.exists('/crud')).toBe(false);
  });

  it('a listing larger than many socket chunks reads back whole (2,000 children of 200-character names: ~400 KB)', async () => {
    await client.create('/wide');
    const names = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(6, '0')}-${'n'.repeat(193)}`);
    for (let i = 0; i < names.length; i += 200) {
      const tx = client.transaction();
      for (const n of names.slice(i, i + 200)) tx.create(`/wide/${n}`);
      await tx.commit();
    }
    // Twice at once, so the replies arrive back to back in the same chunks.
    const [a, b] = await Promise.all([client.children('/wide'), client.children('/wide')]);
    expect(a.sort()).toEqual(names);
    expect(b.sort()).toEqual(names);
    for (let i = 0; i < names.length; i += 200) {
      const tx = client.transaction();
      for (const n of names.slice(i, i + 200)) tx.remove(`/wide/${n}`);
      await tx.commit();
    }
    await client.remove('/wide');
  });

  it('a TTL node reads back through the client at once, whichever server took the create (30 in a row)', async () => {
    // createTtl opens its own connection to the first server that answers; this client may sit on another one,
    // which applies the create a moment later. CI once read one back too early ("no znode").
    await client.create('/ttl-visible');
    for (let i = 0; i < 30; i++) {
      const made = await client.createTtl('/ttl-visible/n-', `v${i}`, 60_000, { sequential: true });
      expect((await client.get(made.path)).data?.toString()).toBe(`v${i}`);
    }
    await client.removeRecursive('/ttl-visible');
  });

  it('empty nodes read back as data: null', async () => {
    await client.create('/empty');
    expect(await client.get('/empty')).toEqual({ data: null, version: 0 });
    await client.remove('/empty');
  });

  it('maps server errors to ZkError codes', async () => {
    await expect(client.get('/missing/node')).rejects.toMatchObject({ name: 'ZkError', code: 'NO_NODE' });
    await client.create('/dup', 'x');
    const exists = await client.create('/dup').catch((e: unknown) => e);
    expect(isZkError(exists, 'NODE_EXISTS')).toBe(true);
    expect(isAppError(exists)).toBe(false);
    await expect(client.set('/dup', 'y', 42)).rejects.toMatchObject({ code: 'BAD_VERSION' });
    await expect(client.remove('/dup', 42)).rejects.toMatchObject({ code: 'BAD_VERSION' });
    await client.create('/dup/child');
    await expect(client.remove('/dup')).rejects.toMatchObject({ code: 'NOT_EMPTY' });
    await expect(client.create('/nope/child')).rejects.toMatchObject({ code: 'NO_NODE' });
    await client.removeRecursive('/dup');
  });

  it('rejects invalid paths as BAD_INPUT without a round trip', async () => {
    await expect(client.get('no-slash')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(client.create('/trailing/')).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('compare-and-set with versions', async () => {
    await client.setOrCreate('/cas', JSON.stringify({ n: 1 }));
    const cur = await client.getJsonVersioned<{ n: number }>('/cas');
    expect(cur).toEqual({ value: { n: 1 }, version: 0 });
    expect(await client.set('/cas', JSON.stringify({ n: 2 }), cur?.version)).toBe(1);
    await expect(client.set('/cas', JSON.stringify({ n: 3 }), cur?.version)).rejects.toMatchObject({
      code: 'BAD_VERSION',
    });
    expect(await client.getJson<{ n: number }>('/cas')).toEqual({ n: 2 });
  });

  it('getJson: null when missing or empty, INTERNAL on garbage', async () => {
    expect(await client.getJson('/json/missing')).toBeNull();
    await client.mkdirp('/json/empty');
    expect(await client.getJson('/json/empty')).toBeNull();
    await client.setOrCreate('/json/bad', 'not json{');
    await expect(client.getJson('/json/bad')).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('mkdirp creates every level and tolerates existing ones', async () => {
    expect(await client.mkdirp('/deep/a/b/c')).toBe('/deep/a/b/c');
    expect(await client.exists('/deep/a/b/c')).toBe(true);
    expect(await client.mkdirp('/deep/a/b/c')).toBe('/deep/a/b/c');
    expect(await client.mkdirp('/deep/a/x')).toBe('/deep/a/x');
    expect(await client.children('/deep/a')).toEqual(['b', 'x']);
  });

  it('setOrCreate upserts, creating parents', async () => {
    expect(await client.setOrCreate('/upsert/p/q', 'v1')).toBe(0);
    expect(await client.setOrCreate('/upsert/p/q', 'v2')).toBe(1);
    expect((await client.get('/upsert/p/q')).data?.toString()).toBe('v2');
  });

  it('children are sorted names', async () => {
    await client.mkdirp('/kids');
    for (const k of ['c', 'a', 'b']) await client.create(`/kids/${k}`);
    expect(await client.children('/kids')).toEqual(['a', 'b', 'c']);
    await expect(client.children('/no-kids-here')).rejects.toMatchObject({ code: 'NO_NODE' });
  });

  it('removeRecursive removes a tree and ignores a missing one', async () => {
    await client.mkdirp('/tree/a/b');
    await client.mkdirp('/tree/c');
    await client.create('/tree/a/b/leaf', 'x');
    await client.removeRecursive('/tree');
    expect(await client.exists('/tree')).toBe(false);
    await expect(client.removeRecursive('/tree')).resolves.toBeUndefined();
    await expect(client.removeRecursive('/')).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('sequential nodes get increasing suffixes', async () => {
    await client.mkdirp('/seq');
    const a = await client.create('/seq/item-', 'a', 'persistent_sequential');
    const b = await client.create('/seq/item-', 'b', 'persistent_sequential');
    expect(a).toMatch(/^\/seq\/item-\d{10}$/);
    expect(b > a).toBe(true);
  });

  it('transaction commits all or nothing', async () => {
    await client.mkdirp('/tx');
    const results = await client
      .transaction()
      .create('/tx/a', 'A')
      .create('/tx/b-', 'B', 'persistent_sequential')
      .set('/tx', 'parent')
      .check('/tx/a', 0)
      .commit();
    expect(results.map((r) => r.op)).toEqual(['create', 'create', 'set', 'check']);
    expect(results[0]?.path).toBe('/tx/a');
    expect(results[1]?.path).toMatch(/^\/tx\/b-\d{10}$/);
    expect(results[2]?.version).toBe(1);

    const err = await client
      .transaction()
      .create('/tx/c')
      .set('/tx/a', 'x', 99)
      .commit()
      .catch((e: unknown) => e);
    expect(isZkError(err, 'BAD_VERSION')).toBe(true);
    expect(await client.exists('/tx/c')).toBe(false); // nothing applied
  });
});

describe('ephemerals and sessions', () => {
  it('an ephemeral node disappears when its client closes', async () => {
    const other = await ZkClient.connect(zk.connectionString);
    await client.mkdirp('/live');
    const created = await other.create('/live/worker-', 'me', 'ephemeral_sequential');
    // `client` may sit on another server, which applies the create a moment later (reads are not linearizable).
    await vi.waitFor(async () => expect(await client.exists(created)).toBe(true), { timeout: 3000, interval: 50 });
    await expect(other.create(`${created}/child`)).rejects.toMatchObject({ code: 'NO_CHILDREN_FOR_EPHEMERALS' });

    const states: ZkClientState[] = [];
    other.on('state', (s) => states.push(s));
    await other.close();
    await other.close(); // idempotent
    expect(other.state).toBe('closed');
    expect(states).toEqual(['closed']);
    // The session is closed synchronously on the server; a follower may lag a few ms behind.
    await vi.waitFor(async () => expect(await client.exists(created)).toBe(false), { timeout: 3000, interval: 50 });
    await expect(other.get('/live')).rejects.toMatchObject({ code: 'ZK_UNAVAILABLE' });
  });
});

describe('watches', () => {
  it('watchData fires once on change, with the current value returned', async () => {
    await client.setOrCreate('/w/data', 'v1');
    const events: ZkWatchEvent[] = [];
    const current = await client.watchData('/w/data', (e) => events.push(e));
    expect(current?.data?.toString()).toBe('v1');
    await client.set('/w/data', 'v2');
    await vi.waitFor(() => expect(events).toEqual([{ type: 'data_changed', path: '/w/data' }]));
    await client.set('/w/data', 'v3'); // one-shot: no second event
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toHaveLength(1);
  });

  it('watchData on a missing node fires on creation', async () => {
    const events: ZkWatchEvent[] = [];
    expect(await client.watchData('/w/later', (e) => events.push(e))).toBeNull();
    await client.create('/w/later', 'hi');
    await vi.waitFor(() => expect(events).toEqual([{ type: 'created', path: '/w/later' }]));
  });

  it('watchData fires on deletion', async () => {
    await client.setOrCreate('/w/gone', 'x');
    const events: ZkWatchEvent[] = [];
    await client.watchData('/w/gone', (e) => events.push(e));
    await client.remove('/w/gone');
    await vi.waitFor(() => expect(events).toEqual([{ type: 'deleted', path: '/w/gone' }]));
  });

  it('watchChildren fires when a child is added, from another client too', async () => {
    await client.mkdirp('/w/kids');
    const events: ZkWatchEvent[] = [];
    expect(await client.watchChildren('/w/kids', (e) => events.push(e))).toEqual([]);
    const other = await ZkClient.connect(zk.connectionString);
    try {
      await other.create('/w/kids/k1', null, 'ephemeral');
      await vi.waitFor(() => expect(events).toEqual([{ type: 'children_changed', path: '/w/kids' }]));
      expect(await client.children('/w/kids')).toEqual(['k1']);
    } finally {
      await other.close();
    }
  });
});

describe('unavailability', () => {
  it('times out instead of hanging while the only server is down (ZK_UNAVAILABLE)', async () => {
    const leader = await zk.waitForQuorum();
    const follower = zk.nodes.find((n) => n.name !== leader);
    if (!follower) throw new Error('no follower');
    const single = await ZkClient.connect(`127.0.0.1:${follower.clientPort}`, {
      sessionTimeout: 10_000,
      operationTimeoutMs: 700,
      spinDelay: 100,
    });
    const states: ZkClientState[] = [];
    single.on('state', (s) => states.push(s));
    try {
      await zk.stopNode(follower.name);
      await vi.waitFor(() => expect(single.state).toBe('disconnected'), { timeout: 5000 });
      const t0 = Date.now();
      const err = await single.get('/').catch((e: unknown) => e);
      expect(isAppError(err) && err.code).toBe('ZK_UNAVAILABLE');
      expect(Date.now() - t0).toBeLessThan(2000);

      // Back within the session timeout: same session, connected again.
      await zk.startNode(follower.name);
      await vi.waitFor(() => expect(single.state).toBe('connected'), { timeout: 15_000, interval: 100 });
      expect(await single.exists('/')).toBe(true);
      expect(states).toEqual(['disconnected', 'connected']);
    } finally {
      await single.close();
      await zk.startNode(follower.name);
      await zk.waitForQuorum();
    }
  });

  it('watchdog: a server that stops answering (SIGSTOP) is left for another one, same session', async () => {
    // Followers only: freezing the leader would also stall the session re-validation on the
    // others until a new election (syncLimit x tickTime = 10 s), which is not what this tests.
    const leader = await zk.waitForQuorum();
    const followers = zk.nodes.filter((n) => n.name !== leader).map((n) => `127.0.0.1:${n.clientPort}`);
    const c = await ZkClient.connect(followers.join(','), { sessionTimeout: 4000, spinDelay: 100 });
    const server = c.connectedServer;
    const spec = zk.nodes.find((n) => `127.0.0.1:${n.clientPort}` === server);
    if (!spec) throw new Error(`connected to unknown server ${server}`);
    const pid = zk.pid(spec.name) as number;
    const session = c.sessionId;
    const states: ZkClientState[] = [];
    c.on('state', (s) => states.push(s));
    try {
      // The TCP connection stays open but nothing answers: without the watchdog the library
      // would stay "connected" to it forever.
      process.kill(pid, 'SIGSTOP');
      await vi.waitFor(
        () => {
          expect(c.connectedServer).not.toBeNull();
          expect(c.connectedServer).not.toBe(server);
          expect(c.state).toBe('connected');
        },
        { timeout: 15_000, interval: 100 },
      );
      expect(states).toContain('disconnected');
      expect(c.sessionId).toBe(session);
      await c.setOrCreate('/watchdog', 'ok');
    } finally {
      process.kill(pid, 'SIGCONT');
      await c.close();
    }
    await zk.waitForQuorum(30_000);
  });
});
