/** ZkSession.reconnect against a real ensemble: moving to another server list, and refusing one that takes no session. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ZkSession } from './session.ts';
import { getFreePort, startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

let zk: TestEnsemble;
beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
});
afterAll(async () => {
  await zk?.stop();
});

describe('ZkSession.reconnect', () => {
  it('moves to a new server list with a new session and says so through `renewed`', async () => {
    const [a, b, c] = zk.nodes.map((n) => `127.0.0.1:${n.clientPort}`);
    const session = await ZkSession.connect(`${a},${b}`, { sessionTimeout: 6000 });
    try {
      const before = session.client;
      const oldId = before.sessionId;
      const renewed: string[] = [];
      session.on('renewed', (client) => renewed.push(client.sessionId));
      await session.reconnect(`${b},${c}`);
      expect(session.connectionString).toBe(`${b},${c}`);
      expect(session.client).not.toBe(before);
      expect(renewed).toEqual([session.client.sessionId]);
      expect(session.client.sessionId).not.toBe(oldId);
      expect([b, c]).toContain(session.client.connectedServer);
      expect(await session.client.create('/reconnect-check', 'ok')).toBe('/reconnect-check');
      // The old client was closed, its session with it.
      expect(before.state).toBe('closed');
    } finally {
      await session.close();
    }
  });

  it('keeps the current client when the new list takes no session', async () => {
    const session = await ZkSession.connect(zk.connectionString, { sessionTimeout: 6000, connectTimeoutMs: 1500 });
    try {
      const before = session.client;
      const nobody = `127.0.0.1:${await getFreePort()}`;
      await expect(session.reconnect(nobody)).rejects.toMatchObject({ code: 'ZK_UNAVAILABLE' });
      expect(session.client).toBe(before);
      expect(session.connectionString).toBe(zk.connectionString);
      expect(await session.client.exists('/zookeeper')).toBe(true);
    } finally {
      await session.close();
    }
  });
});
