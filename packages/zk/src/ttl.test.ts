/**
 * TTL znodes over zkha's own CreateTTL request, against real servers: created with the ACL and credentials of
 * the client, seen as TTL nodes in their stat, deleted by ZooKeeper once the TTL has passed; refused with
 * UNIMPLEMENTED by servers without extended types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isZkError, protectedAcl, ZkClient } from './client.ts';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

const AUTH = { user: 'zkha', password: 'ttl-test-password-0123' };
let withTtl: TestEnsemble;
let without: TestEnsemble;
let client: ZkClient;
let stranger: ZkClient;

beforeAll(async () => {
  [withTtl, without] = await Promise.all([
    // ZooKeeper's container manager looks for expired nodes every minute by default: every 300 ms here.
    startTestEnsemble({ size: 1, javaOpts: ['-Dznode.container.checkIntervalMs=300'] }),
    startTestEnsemble({ size: 1, extraConfig: { extendedTypesEnabled: false } }),
  ]);
  client = await ZkClient.connect(withTtl.connectionString, { auth: AUTH });
  stranger = await ZkClient.connect(withTtl.connectionString);
}, 120_000);
afterAll(async () => {
  await client?.close();
  await stranger?.close();
  await Promise.all([withTtl?.stop(), without?.stop()]);
});

describe('createTtl', () => {
  it('creates a TTL node with the client ACL; ZooKeeper deletes it once the TTL has passed', async () => {
    const made = await client.createTtl('/ttl-node', 'hello', 1500);
    expect(made.path).toBe('/ttl-node');
    // ZooKeeper shows clients 0 as a TTL node's owner (DataNode.getClientEphemeralOwner): only its going says it was one.
    expect(made.stat).toMatchObject({ version: 0, dataLength: 5, ephemeralOwner: '0x0' });
    // The same node through the library's own reads: data, stat, ACL.
    expect((await client.read('/ttl-node')).data.toString()).toBe('hello');
    expect((await client.stat('/ttl-node'))!.czxid).toBe(made.stat.czxid);
    expect(await client.getAcl('/ttl-node')).toEqual(protectedAcl(AUTH));
    // Protected like any node this client makes: a client without the credentials cannot change it.
    await expect(stranger.set('/ttl-node', 'x')).rejects.toMatchObject({ code: 'NO_AUTH' });

    // Still there well inside its TTL, gone after it (the container manager looks every 300 ms here).
    await new Promise((r) => setTimeout(r, 500));
    expect(await client.stat('/ttl-node')).not.toBeNull();
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 100));
      gone = (await client.stat('/ttl-node')) === null;
    }
    expect(gone).toBe(true);
  });

  it('numbers a sequential TTL node, and answers refusals with their codes', async () => {
    const seq = await client.createTtl('/ttl-seq-', '', 60_000, { sequential: true });
    expect(seq.path).toMatch(/^\/ttl-seq-\d{10}$/);
    await expect(client.createTtl(seq.path, '', 60_000)).rejects.toMatchObject({ code: 'NODE_EXISTS' });
    await expect(client.createTtl('/no/parent', '', 60_000)).rejects.toMatchObject({ code: 'NO_NODE' });
    await expect(client.createTtl('/zero', '', 0)).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' });
  });

  it('a server without extended types refuses: UNIMPLEMENTED', async () => {
    const other = await ZkClient.connect(without.connectionString);
    try {
      const err = await other.createTtl('/ttl-node', '', 1000).catch((e: unknown) => e);
      expect(isZkError(err) && err.code).toBe('UNIMPLEMENTED');
    } finally {
      await other.close();
    }
  });
});
