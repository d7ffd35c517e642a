import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isZkError, protectedAcl, ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { STORES_ROOT, StorageAgent, type AliveRecord } from './agent.ts';
import { AgentSupervisor } from './supervisor.ts';

let ensemble: TestEnsemble;
let observer: ZkSession;
let dir: string;

beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
  observer = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-agent-'));
});
afterAll(async () => {
  await observer?.close();
  await ensemble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

describe('StorageAgent against a real ensemble', () => {
  it('registers an ephemeral alive znode with address and capacity, heartbeats, and removes it on stop', async () => {
    const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 4000 });
    const agent = new StorageAgent(session, { node: 'zk1', address: 'here:1', folder: dir, heartbeatIntervalMs: 200 });
    await agent.start();
    const first = await observer.client.getJson<AliveRecord>(`${STORES_ROOT}/zk1/alive`);
    expect(first).toMatchObject({ node: 'zk1', address: 'here:1', pid: process.pid, heartbeatIntervalMs: 200 });
    expect(first!.capacityBytes).toBeGreaterThan(0);
    const { version } = await observer.client.get(`${STORES_ROOT}/zk1/alive`);
    await until(async () => (await observer.client.get(`${STORES_ROOT}/zk1/alive`)).version > version, 3000);
    await agent.stop();
    expect(await observer.client.exists(`${STORES_ROOT}/zk1/alive`)).toBe(false);
    await session.close();
  });

  it('the znode disappears when the agent session closes without a goodbye, and a new agent replaces a stale one', async () => {
    const s1 = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 4000 });
    await new StorageAgent(s1, { node: 'zk2', address: 'a', folder: dir, heartbeatIntervalMs: 10_000 }).start();
    // A second agent for the same node (a restart faster than the session timeout) takes over the znode.
    const s2 = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 4000 });
    await new StorageAgent(s2, { node: 'zk2', address: 'b', folder: dir, heartbeatIntervalMs: 10_000 }).start();
    // The observer's server may not have applied s2's delete-and-create yet (ZooKeeper reads are not linearizable
    // across servers): wait for it instead of reading once (this read once saw the znode missing in CI).
    await until(async () => (await observer.client.getJson<AliveRecord>(`${STORES_ROOT}/zk2/alive`))?.address === 'b', 3000);
    await s1.close();
    expect(await observer.client.exists(`${STORES_ROOT}/zk2/alive`)).toBe(true); // still s2's
    await s2.close(); // closing a session deletes its ephemerals at once
    await until(async () => !(await observer.client.exists(`${STORES_ROOT}/zk2/alive`)), 3000);
  });
});

describe('session expiry', () => {
  it('when its only server is away past the session timeout, the znode goes; when it returns, the agent re-registers on a new session', async () => {
    const node = ensemble.nodes[0]!;
    // Connected to its own server only, like a real agent: the ensemble expires the session while it is away.
    const session = await ZkSession.connect(`127.0.0.1:${node.clientPort}`, { sessionTimeout: 4000 });
    const renewed = new Promise<void>((resolve) => session.once('renewed', () => resolve()));
    const agent = new StorageAgent(session, { node: 'zk9', address: 'x', folder: dir, heartbeatIntervalMs: 500 });
    await agent.start();
    const firstSession = session.client.sessionId;
    const alive = `${STORES_ROOT}/zk9/alive`;
    try {
      // The observer must not depend on the server we stop.
      const others = ensemble.nodes
        .slice(1)
        .map((n) => `127.0.0.1:${n.clientPort}`)
        .join(',');
      const watcher = await ZkSession.connect(others, { sessionTimeout: 6000 });
      try {
        await ensemble.stopNode(node.name);
        const goneAfter = await until(async () => !(await watcher.client.exists(alive)), 20_000);
        expect(goneAfter).toBeGreaterThan(1000);
        await ensemble.startNode(node.name);
        await renewed;
        expect(session.client.sessionId).not.toBe(firstSession);
        await until(() => watcher.client.exists(alive), 10_000);
      } finally {
        await watcher.close();
      }
    } finally {
      await agent.stop();
      await session.close();
    }
  });
});

describe('AgentSupervisor with real agent processes', () => {
  it('starts agents, restarts one that was SIGKILLed, and keeps a stopped one down', async () => {
    const events: string[] = [];
    const sup = new AgentSupervisor({
      agents: [{ node: 'zk3', zk: ensemble.connectionString, folder: dir, logFile: path.join(dir, 'agent-zk3.log') }],
      sessionTimeoutMs: 4000,
      heartbeatIntervalMs: 500,
      restartDelayMs: 300,
      onEvent: (e) => events.push(e.kind),
    });
    try {
      sup.startAll();
      await until(() => observer.client.exists(`${STORES_ROOT}/zk3/alive`), 20_000);
      const pid = sup.pid('zk3');
      expect(pid).toBeGreaterThan(0);
      sup.kill('zk3');
      // Back when the new process has registered itself (the znode names its pid).
      const alivePid = async () => (await observer.client.getJson<AliveRecord>(`${STORES_ROOT}/zk3/alive`).catch(() => null))?.pid;
      await until(async () => sup.isRunning('zk3') && sup.pid('zk3') !== pid && (await alivePid()) === sup.pid('zk3'), 20_000);
      expect(events).toEqual(expect.arrayContaining(['started', 'exited', 'restarting']));
      await sup.stop('zk3');
      expect(sup.isRunning('zk3')).toBe(false);
      // SIGTERM lets the agent delete its znode itself: gone without waiting for a session timeout.
      await until(async () => !(await observer.client.exists(`${STORES_ROOT}/zk3/alive`)), 2000);
      await new Promise((r) => setTimeout(r, 600));
      expect(sup.isRunning('zk3')).toBe(false);
    } finally {
      await sup.stopAll();
    }
  });
});

describe('ZooKeeper ACL on the alive znode', () => {
  const auth = { user: 'zkha', password: 'agent-acl-test-password' };

  it('an agent process given credentials registers a znode only zkha may change; the password is not on its command line', async () => {
    const sup = new AgentSupervisor({
      agents: [{ node: 'zk7', zk: ensemble.connectionString, folder: dir, logFile: path.join(dir, 'agent-zk7.log') }],
      sessionTimeoutMs: 4000,
      heartbeatIntervalMs: 300,
      restartDelayMs: 300,
      zkAuth: auth,
    });
    const alive = `${STORES_ROOT}/zk7/alive`;
    try {
      sup.startAll();
      await until(() => observer.client.exists(alive), 20_000);
      const owner = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 4000, auth });
      try {
        expect(await owner.client.getAcl(alive)).toEqual(protectedAcl(auth));
        expect(await owner.client.getAcl(`${STORES_ROOT}/zk7`)).toEqual(protectedAcl(auth));
      } finally {
        await owner.close();
      }
      // Without ADMIN on the node, ZooKeeper masks the digest: nothing to brute-force offline.
      expect(await observer.client.getAcl(alive)).toEqual([
        { scheme: 'digest', id: 'zkha:x', perms: 31 },
        { scheme: 'world', id: 'anyone', perms: 1 },
      ]);
      // Readable by anyone (the observer has no credentials), changeable by nobody else.
      expect((await observer.client.getJson<AliveRecord>(alive))?.node).toBe('zk7');
      const refused = await observer.client.remove(alive).then(
        () => 'removed',
        (err: unknown) => (isZkError(err) ? err.code : String(err)),
      );
      expect(refused).toBe('NO_AUTH');
      // Still heartbeating with its credentials: the version moves.
      const { version } = await observer.client.get(alive);
      await until(async () => (await observer.client.get(alive)).version > version, 5000);
      const cmdline = await readFile(`/proc/${sup.pid('zk7')}/cmdline`, 'utf8');
      expect(cmdline).toContain('zk7');
      expect(cmdline).not.toContain(auth.password);
    } finally {
      await sup.stopAll();
    }
    // SIGTERM: the agent deletes its own znode, which its credentials allow.
    await until(async () => !(await observer.client.exists(alive)), 3000);
  });
});
