/**
 * Several control-plane instances on one real ensemble and one set of agents: exactly one leads and runs the
 * background loops; when it goes, its successor takes over, recovers and records the takeover; a deposed leader's
 * ZooKeeper writes are refused by the fence.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { ELECTION_ROOT, NotLeaderError } from '../index.ts';
import { ZK_BATCHES_ROOT, ZK_QUEUE_ROOT } from '../migrations/shared-journal.ts';
import { createTestServices, TEST_ZK_AUTH, TestAgents, type TestServices } from '../testing.ts';

let ensemble: TestEnsemble;
let agents: TestAgents;
let dir: string;
const open: TestServices[] = [];
const TOKEN = 'control-test-agent-token-0123456789';
beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
  // The storage agents run on their own, as on separate hosts: no instance owns them.
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-control-'));
  agents = new TestAgents({ root: dir, connectionString: ensemble.connectionString, zkAuth: TEST_ZK_AUTH, token: TOKEN });
  for (const n of ensemble.nodes) await agents.start(n.name);
});
afterAll(async () => {
  for (const t of open.splice(0).reverse()) await t.close().catch(() => undefined);
  await agents?.close();
  await ensemble?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function instance(id: string): Promise<TestServices> {
  const t = await createTestServices({
    ensemble,
    agentToken: TOKEN,
    inProcessAgents: false,
    services: { control: { id, url: `http://127.0.0.1/${id}` } },
  });
  open.push(t);
  await t.services.start();
  return t;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('control plane: several instances, one leader', () => {
  it('one of three leads; followers see it; when it stops its successor takes over and records the takeover', async () => {
    const a = await instance('a');
    await until(() => a.services.control!.isLeader(), 5000);
    const b = await instance('b');
    const c = await instance('c');
    expect([a, b, c].map((t) => t.services.control!.role())).toEqual(['leader', 'follower', 'follower']);

    const seen = await c.services.control!.status();
    expect(seen.instances.map((i) => [i.id, i.leader, i.self])).toEqual([
      ['a', true, false],
      ['b', false, false],
      ['c', false, true],
    ]);
    expect(seen.leader).toMatchObject({ id: 'a', url: 'http://127.0.0.1/a', self: false });

    const [made] = await a.services.files.generate({ count: 1, sizeBytes: 4096, node: 'zk1', action: 'test' });
    expect(made!.node).toBe('zk1');

    const t0 = performance.now();
    const a2 = open.indexOf(a);
    open.splice(a2, 1);
    await a.close();
    await until(() => b.services.control!.isLeader(), 7000);
    const ms = performance.now() - t0;
    expect(c.services.control!.role()).toBe('follower');
    await until(async () => (await c.services.control!.status()).takeovers.length > 0, 5000);
    const after = await c.services.control!.status();
    expect(after.leader).toMatchObject({ id: 'b' });
    expect(after.instances.map((i) => i.id)).toEqual(['b', 'c']);
    const [takeover] = after.takeovers;
    expect(takeover).toMatchObject({ from: 'a', to: 'b' });
    expect(takeover!.electionMs).toBeGreaterThanOrEqual(0);
    expect(takeover!.recoveryMs).toBeGreaterThanOrEqual(0);
    expect(b.services.operations.list({ action: 'control_leader', limit: 5 }).items.map((o) => o.details)).toEqual([
      expect.objectContaining({ instance: 'b', takeover: expect.objectContaining({ from: 'a' }) }),
    ]);
    console.log(`[figure] control plane: b leads ${ms.toFixed(0)} ms after a stopped; takeover ${JSON.stringify(takeover)}`);
  });

  it("a deposed leader's metadata writes are refused: the fence (its election znode) is checked in the same multi", async () => {
    const [leader] = open.filter((t) => t.services.control!.isLeader());
    const [record] = await leader!.services.files.generate({ count: 1, sizeBytes: 4096, node: 'zk2', action: 'test' });
    await leader!.services.metadata.putMany([record!, record!]); // leading: written

    // The server forgets the election znode (as when the session expires while the process is paused): the
    // instance's lease has not run out yet, so only the fence stands between it and a write.
    const fence = leader!.services.control!.fence()!;
    expect(fence.startsWith(`${ELECTION_ROOT}/`)).toBe(true);
    await leader!.services.session.client.remove(fence);
    await expect(leader!.services.metadata.putMany([record!, record!])).rejects.toThrow(NotLeaderError);
  });
});

describe('followers project the leader’s file metadata', () => {
  it('a follower’s database and index follow every write of the leader, through the change feed', async () => {
    // The previous test took the leader's election znode away: wait for the lead to settle on one instance again.
    const settled = async () => {
      const ls = open.filter((t) => t.services.control!.isLeader());
      return ls.length === 1 && (await ls[0]!.services.session.client.exists(ls[0]!.services.control!.fence()!));
    };
    await until(settled, 10_000);
    const [leader] = open.filter((t) => t.services.control!.isLeader());
    const followers = open.filter((t) => t !== leader);
    expect(followers.length).toBeGreaterThan(0);
    const f = await instance('d');
    expect(f.services.control!.role()).toBe('follower');
    const all = [...followers, f];
    // Whatever the leader has now, the followers have after a full read.
    const made = await leader!.services.files.generate({ count: 20, sizeBytes: 4096, node: 'zk1', action: 'test' });
    const victim = made[0]!;
    await leader!.services.files.delete(victim.uuid);
    const want = () => JSON.stringify(leader!.services.files.counts());
    await until(() => all.every((t) => JSON.stringify(t.services.files.counts()) === want()), 5000);
    for (const t of all) {
      expect(
        t.services.files
          .list({ limit: 1000, offset: 0 })
          .items.map((x) => x.uuid)
          .sort(),
      ).toEqual(
        leader!.services.files
          .list({ limit: 1000, offset: 0 })
          .items.map((x) => x.uuid)
          .sort(),
      );
      expect(() => t.services.files.byId(victim.uuid)).toThrow();
      const one = t.services.files.byId(made[1]!.uuid);
      expect(one).toMatchObject({ node: 'zk1', sha256: made[1]!.sha256, sizeBytes: 4096, createdAt: made[1]!.createdAt });
    }
  });
});

describe('the shared migration journal', () => {
  it('the leader queues and moves through it; when it is done, the journal is empty again', async () => {
    if (open.length === 0) await instance('e');
    await until(() => open.filter((t) => t.services.control!.isLeader()).length === 1, 10_000);
    const [leader] = open.filter((t) => t.services.control!.isLeader());
    const s = leader!.services;
    await s.files.generate({ count: 30, sizeBytes: 4096, node: 'zk3', action: 'test' });
    const plan = s.scheduler.dryRun('count');
    expect(plan.moves.length).toBeGreaterThan(5);
    // Held first, so the followers can be seen showing the leader's queue.
    while (open.length < 2) await instance(`q${open.length}`);
    const followers = open.filter((t) => t !== leader);
    s.engine.pause();
    s.engine.enqueue(plan.moves);
    await until(() => followers.every((f) => f.services.engine.progress().totals.pending === plan.moves.length), 10_000);
    s.engine.resume();
    expect(await s.engine.drain(30_000)).toBe(true);
    // Then the moves end there too: completed, as the file znodes say.
    await until(() => followers.every((f) => f.services.engine.openMigrations().length === 0), 10_000);
    for (const f of followers) {
      const done = f.services.engine.status();
      expect(done.completed).toBeGreaterThanOrEqual(plan.moves.length);
    }
    expect(s.engine.status()).toMatchObject({ failed: 0 });
    const client = s.session.client;
    await until(
      async () => (await client.children(ZK_BATCHES_ROOT)).length === 0 && (await client.children(ZK_QUEUE_ROOT)).length === 0,
      10_000,
    );
  });
});

describe('shared settings', () => {
  it('drains, scheduler settings and migration caps set on the leader reach every follower (and so a future leader)', async () => {
    while (open.length < 2) await instance(`s${open.length}`);
    await until(() => open.filter((t) => t.services.control!.isLeader()).length === 1, 10_000);
    const leader = open.find((t) => t.services.control!.isLeader())!;
    const followers = open.filter((t) => t !== leader);
    leader.services.nodes.drain('zk2', 'shared drain');
    leader.services.scheduler.setConfig({ threshold: 17 });
    leader.services.engine.setCaps({ maxConcurrent: 7 });
    await until(
      () =>
        followers.every(
          (f) =>
            f.services.nodes.drainedSet().has('zk2') &&
            f.services.scheduler.getConfig().threshold === 17 &&
            f.services.engine.getCaps().maxConcurrent === 7,
        ),
      5000,
    );
    expect(followers[0]!.services.nodes.states().find((s) => s.node === 'zk2')).toMatchObject({ drained: true, reason: 'shared drain' });
    // Applied silently: the change is the leader's, audited there only.
    expect(followers[0]!.services.operations.list({ action: 'drain', limit: 5 }).items).toEqual([]);
    leader.services.nodes.undrain('zk2');
    await until(() => followers.every((f) => !f.services.nodes.drainedSet().has('zk2')), 5000);
    // A storage node registered on the leader is known to every instance, with its lifecycle.
    await leader.services.storageNodes.add({ node: 'zk9' });
    const want = leader.services.storageNodes.lifecycleOf('zk9');
    expect(want).not.toBeNull();
    await until(
      () =>
        followers.every(
          (f) =>
            f.services.storageNodes.lifecycleOf('zk9') === want &&
            f.services.config.nodes.includes('zk9') === leader.services.config.nodes.includes('zk9'),
        ),
      5000,
    );
  });
});
