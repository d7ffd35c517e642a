/**
 * Two zkha servers on one ensemble: one leads, the other follows; /healthz and /metrics say which; a mutation sent
 * to the follower runs once, on the leader; when the leader stops, the follower takes over and runs mutations itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { bootTestServer, type TestServer } from './testing.ts';

let ensemble: TestEnsemble;
let leader: TestServer;
let follower: TestServer;
beforeAll(async () => {
  // The ensemble outlives both instances (the first one runs the storage agents).
  ensemble = await startTestEnsemble({ size: 3 });
  const members = ensemble.nodes.map((n) => `${n.name}=127.0.0.1:${n.clientPort}`).join(',');
  leader = await bootTestServer({ INSTANCE_ID: 'one', ZK_NODES: members });
  follower = await bootTestServer({
    INSTANCE_ID: 'two',
    ZK_NODES: members,
    AGENTS_ENABLED: 'false',
    AGENT_TOKEN: leader.server.agents!.dataToken!,
  });
}, 120_000);
afterAll(async () => {
  await follower?.close();
  await leader?.close().catch(() => undefined);
  await ensemble?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;

describe('several instances', () => {
  it('say who leads on /healthz, /metrics and /api/control', async () => {
    expect((await json(await fetch(`${leader.url}/healthz`))).control).toEqual({ role: 'leader', instance: 'one' });
    expect((await json(await fetch(`${follower.url}/healthz`))).control).toEqual({ role: 'follower', instance: 'two' });
    expect(await (await fetch(`${leader.url}/metrics`)).text()).toMatch(/^zkha_control_leader 1$/m);
    expect(await (await fetch(`${follower.url}/metrics`)).text()).toMatch(/^zkha_control_leader 0$/m);
    const status = await json(await fetch(`${follower.url}/api/control`));
    expect(status.role).toBe('follower');
    expect(status.leader).toMatchObject({ id: 'one', url: leader.url, self: false });
    expect(status.instances.map((i: { id: string; leader: boolean }) => [i.id, i.leader])).toEqual([
      ['one', true],
      ['two', false],
    ]);
  });

  it('a mutation sent to the follower runs once, on the leader (REST and tRPC)', async () => {
    const before = leader.server.services.files.counts();
    const res = await fetch(`${follower.url}/api/files/bulk-generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 3, size_kb: 4, placement: 'pin', node: 'zk2' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-zkha-leader')).toBe('one');
    const after = leader.server.services.files.counts();
    expect((after.zk2 ?? 0) - (before.zk2 ?? 0)).toBe(3);
    // tRPC: a drain through the follower is the leader's.
    const trpc = await fetch(`${follower.url}/trpc/nodes.drain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'zk3', reason: 'via follower' }),
    });
    expect(trpc.status).toBe(200);
    expect(leader.server.services.nodes.drainedSet().has('zk3')).toBe(true);
    const ops = leader.server.services.operations.list({ action: 'drain', limit: 10 }).items;
    expect(ops.filter((o) => o.node === 'zk3')).toHaveLength(1);
    await fetch(`${follower.url}/trpc/nodes.undrain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'zk3' }),
    });
    // A request already forwarded once is never forwarded again.
    const hop = await fetch(`${follower.url}/api/files/bulk-generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-zkha-forwarded-by': 'elsewhere' },
      body: '{}',
    });
    expect(hop.status).toBe(503);
    expect((await json(hop)).error.code).toBe('NO_LEADER');
  });

  it('when the leader goes, the follower leads and runs mutations itself', async () => {
    await leader.server.stop();
    const t0 = Date.now();
    while (!follower.server.services.control!.isLeader()) {
      if (Date.now() - t0 > 15_000) throw new Error('the follower did not take over');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await json(await fetch(`${follower.url}/healthz`))).control.role).toBe('leader');
    // The takeover is recorded once the new leader has recovered and started its loops.
    let status = await json(await fetch(`${follower.url}/api/control`));
    while (status.takeovers.length === 0 && Date.now() - t0 < 15_000) {
      await new Promise((r) => setTimeout(r, 50));
      status = await json(await fetch(`${follower.url}/api/control`));
    }
    expect(status.takeovers[0]).toMatchObject({ from: 'one', to: 'two' });
  });
});
