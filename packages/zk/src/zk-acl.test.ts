/**
 * The ZooKeeper ACL test: znodes created by a client with digest credentials carry
 * [digest:user:hash ALL, world:anyone READ]; a client without them can read but not change, delete,
 * create under or re-ACL them; the credentials survive a failover; an old open tree is protected once.
 * Against a real 3-node ensemble.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isZkError, protectedAcl, ZK_PERMS, ZkClient, type ZkAclEntry, type ZkClientState } from './client.ts';
import { zkDigest } from './auth.ts';
import { ZkSession } from './session.ts';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

const AUTH = { user: 'zkha', password: 'acl-test-password-0123' };
const OPEN: ZkAclEntry[] = [{ scheme: 'world', id: 'anyone', perms: ZK_PERMS.all }];

let zk: TestEnsemble;
let owner: ZkClient;
let stranger: ZkClient;

beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
  owner = await ZkClient.connect(zk.connectionString, { sessionTimeout: 6000, auth: AUTH });
  stranger = await ZkClient.connect(zk.connectionString, { sessionTimeout: 6000 });
});

afterAll(async () => {
  await owner?.close();
  await stranger?.close();
  await zk?.stop();
});

/** The error code of a rejected call, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isZkError(err) ? err.code : String(err);
  }
}

describe('ZooKeeper ACL on znodes created with credentials', () => {
  it('is the digest user with every permission plus read for everyone', () => {
    expect(owner.acl).toEqual([
      { scheme: 'digest', id: zkDigest('zkha', AUTH.password), perms: 31 },
      { scheme: 'world', id: 'anyone', perms: 1 },
    ]);
    expect(stranger.acl).toBeNull();
  });

  it('every way of creating puts it on: create, mkdirp (each level), setOrCreate (parents too), transaction', async () => {
    await owner.mkdirp('/zkha/files');
    await owner.create('/zkha/files/a', '{"n":1}');
    await owner.setOrCreate('/zkha/deep/er/node', 'x');
    await owner.transaction().create('/zkha/files/b', '{"n":2}').create('/zkha/files/c').commit();
    await owner.create('/zkha/eph', 'e', 'ephemeral');
    for (const p of [
      '/zkha',
      '/zkha/files',
      '/zkha/files/a',
      '/zkha/deep',
      '/zkha/deep/er',
      '/zkha/deep/er/node',
      '/zkha/files/b',
      '/zkha/files/c',
      '/zkha/eph',
    ]) {
      expect(await owner.getAcl(p), p).toEqual(protectedAcl(AUTH));
    }
  });

  it('a client without credentials reads, and is refused (NO_AUTH) set, delete, create under and setAcl', async () => {
    expect(await stranger.getJson('/zkha/files/a')).toEqual({ n: 1 });
    expect(await stranger.children('/zkha/files')).toEqual(['a', 'b', 'c']);
    expect(await outcome(stranger.set('/zkha/files/a', 'tampered'))).toBe('NO_AUTH');
    expect(await outcome(stranger.remove('/zkha/files/c'))).toBe('NO_AUTH');
    expect(await outcome(stranger.create('/zkha/files/intruder', 'x'))).toBe('NO_AUTH');
    expect(await outcome(stranger.create('/zkha/intruder'))).toBe('NO_AUTH');
    expect(await outcome(stranger.transaction().create('/zkha/files/d').commit())).toBe('NO_AUTH');
    expect(await outcome(stranger.setAcl('/zkha/files/a', OPEN))).toBe('NO_AUTH');
    expect(await outcome(stranger.removeRecursive('/zkha/deep'))).toBe('NO_AUTH');
    expect(await stranger.getJson('/zkha/files/a')).toEqual({ n: 1 }); // unchanged
  });

  it('other credentials are no better than none', async () => {
    const other = await ZkClient.connect(zk.connectionString, { auth: { user: 'zkha', password: 'not-the-right-password' } });
    try {
      expect(await outcome(other.set('/zkha/files/a', 'tampered'))).toBe('NO_AUTH');
      expect(await outcome(other.create('/zkha/files/intruder'))).toBe('NO_AUTH');
    } finally {
      await other.close();
    }
  });

  it('the owner (and a second session with the same credentials) can do all of it', async () => {
    const second = await ZkClient.connect(zk.connectionString, { auth: AUTH });
    try {
      expect(await outcome(second.set('/zkha/files/a', '{"n":10}'))).toBe('ok');
      expect(await outcome(second.create('/zkha/files/d', '{}'))).toBe('ok');
      expect(await outcome(owner.remove('/zkha/files/d'))).toBe('ok');
      expect(await outcome(owner.transaction().set('/zkha/files/b', '{"n":20}').remove('/zkha/files/c').commit())).toBe('ok');
      expect(await outcome(owner.removeRecursive('/zkha/deep'))).toBe('ok');
      expect(await owner.children('/zkha/files')).toEqual(['a', 'b']);
    } finally {
      await second.close();
    }
  });
});

describe('protecting a tree created before credentials were configured', () => {
  it('sets the ACL on the root and every node below it once, in batches; a second run has nothing to do', async () => {
    // An old open tree, as written by a zkha without credentials: 3 stores with ephemeral alive nodes, 40 files.
    await stranger.mkdirp('/old/stores');
    await stranger.mkdirp('/old/files');
    for (const n of ['zk1', 'zk2', 'zk3']) {
      await stranger.create(`/old/stores/${n}`);
      await stranger.create(`/old/stores/${n}/alive`, '{}', 'ephemeral');
    }
    await Promise.all(Array.from({ length: 40 }, (_, i) => stranger.create(`/old/files/f${i}`, '{}')));
    expect(await stranger.getAcl('/old')).toEqual(OPEN);
    const total = 1 + 2 + 6 + 40;

    expect(await owner.protectTree('/old', { batchSize: 7 })).toBe(total);
    for (const p of ['/old', '/old/stores', '/old/stores/zk2', '/old/stores/zk2/alive', '/old/files', '/old/files/f0', '/old/files/f39']) {
      expect(await owner.getAcl(p), p).toEqual(protectedAcl(AUTH));
    }
    expect(await outcome(stranger.set('/old/files/f7', 'x'))).toBe('NO_AUTH');
    expect(await outcome(stranger.remove('/old/stores/zk1/alive'))).toBe('NO_AUTH');
    expect(await owner.protectTree('/old')).toBe(0);
    expect(await owner.protectTree('/missing')).toBe(0);
    expect(await stranger.protectTree('/old')).toBe(0); // no credentials, nothing to apply
  });

  it('a tree protected with other credentials cannot be taken over (NO_AUTH)', async () => {
    const other = await ZkClient.connect(zk.connectionString, { auth: { user: 'zkha', password: 'someone-else-entirely' } });
    try {
      expect(await outcome(other.protectTree('/old'))).toBe('NO_AUTH');
      expect(await owner.getAcl('/old')).toEqual(protectedAcl(AUTH));
    } finally {
      await other.close();
    }
  });
});

describe('credentials across a failover', () => {
  it('the library sends them again on the new connection, ahead of a write queued while disconnected', async () => {
    const client = await ZkClient.connect(zk.connectionString, { sessionTimeout: 8000, auth: AUTH, operationTimeoutMs: 20_000 });
    try {
      await client.setOrCreate('/zkha/failover', '0');
      const server = client.connectedServer;
      const victim = zk.nodes.find((n) => server?.endsWith(`:${n.clientPort}`));
      expect(victim).toBeDefined();
      const session = client.sessionId;
      const disconnected = new Promise<void>((resolve) => {
        const on = (s: ZkClientState) => {
          if (s !== 'disconnected') return;
          client.off('state', on);
          resolve();
        };
        client.on('state', on);
      });
      await zk.killNode(victim!.name);
      await disconnected;
      // Issued while disconnected: it waits in the library's queue and goes out on the next socket.
      const queued = client.set('/zkha/failover', '1');
      expect(await outcome(queued)).toBe('ok');
      expect(client.sessionId).toBe(session); // the same session, on another server
      expect(client.connectedServer).not.toBe(server);
      expect(await outcome(client.create('/zkha/failover/child'))).toBe('ok');
      expect((await stranger.get('/zkha/failover')).data?.toString()).toBe('1');
    } finally {
      await client.close();
      await zk.startNode(zk.nodes.find((n) => !zk.isRunning(n.name))?.name ?? 'zk1').catch(() => undefined);
    }
  });
});

describe('ZkSession keeps the credentials for every client it opens', () => {
  it('after the session expires, and after a reconnect to another server list', async () => {
    const node = zk.nodes[2]!;
    // On one server only: stopping it past the session timeout makes the ensemble expire the session.
    const session = await ZkSession.connect(`127.0.0.1:${node.clientPort}`, { sessionTimeout: 4000, auth: AUTH });
    try {
      await session.client.mkdirp('/zkha/sessions');
      // The session's own ephemeral: when another client sees it gone, the ensemble has expired the session.
      await session.client.create('/zkha/sessions/marker', 'm', 'ephemeral');
      const first = session.client;
      const renewed = new Promise<ZkClient>((resolve) => session.once('renewed', resolve));
      await zk.stopNode(node.name);
      // Wait for the expiry itself rather than a fixed time: on a loaded machine the leader can take longer than
      // the timeout to expire it, and a server back before that lets the old session resume (no renewal at all).
      const deadline = Date.now() + 60_000;
      // The stranger may be on the stopped server too: a read lost while it moves over says nothing, so ask again.
      const markerMayExist = () =>
        stranger.exists('/zkha/sessions/marker').catch((err: unknown) => {
          if ((err as { code?: string }).code === 'ZK_UNAVAILABLE') return true;
          throw err;
        });
      while (await markerMayExist()) {
        if (Date.now() > deadline) throw new Error('the session was not expired within 60 s');
        await new Promise((r) => setTimeout(r, 200));
      }
      await zk.startNode(node.name);
      const second = await renewed;
      expect(second).not.toBe(first);
      expect(second.acl).toEqual(protectedAcl(AUTH));
      await second.create('/zkha/sessions/after-expiry', 'x', 'ephemeral');
      expect(await second.getAcl('/zkha/sessions/after-expiry')).toEqual(protectedAcl(AUTH));

      await session.reconnect(zk.connectionString);
      const third = session.client;
      expect(third).not.toBe(second);
      await third.create('/zkha/sessions/after-reconnect', 'y');
      expect(await third.getAcl('/zkha/sessions/after-reconnect')).toEqual(protectedAcl(AUTH));
      expect(await outcome(third.set('/zkha/files/a', '{"n":30}'))).toBe('ok');
    } finally {
      await session.close();
      if (!zk.isRunning(node.name)) await zk.startNode(node.name);
    }
  }, 150_000);
});
