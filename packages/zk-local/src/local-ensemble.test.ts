/**
 * The launcher against a real 3-node ZooKeeper ensemble (one per file; ~10-15 s in all).
 * Tests run in order and share the ensemble; each leaves it with a quorum of 3.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAppError } from '@zkha/core';
import { probeEnsemble, ZkClient } from '@zkha/zk';
import { findZooKeeperClasspath } from './java-install.ts';
import { startLocalEnsemble, type LocalEnsemble } from './local-ensemble.ts';
import type { EnsembleNodeSpec } from './node-spec.ts';
import type { NodeExitInfo } from './node-process.ts';
import { getFreePorts, startTestEnsemble } from './testing.ts';

let baseDir: string;
let nodes: EnsembleNodeSpec[];
let zk: LocalEnsemble;
const pidsSeen = new Set<number>();

function remember(): void {
  for (const n of zk.nodes) {
    const pid = zk.pid(n.name);
    if (pid) pidsSeen.add(pid);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function specs(n: number): Promise<EnsembleNodeSpec[]> {
  const ports = await getFreePorts(n * 4);
  return Array.from({ length: n }, (_, i) => ({
    name: `zk${i + 1}`,
    id: i + 1,
    clientPort: ports[i * 4] as number,
    quorumPort: ports[i * 4 + 1] as number,
    electionPort: ports[i * 4 + 2] as number,
    adminPort: ports[i * 4 + 3] as number,
  }));
}

beforeAll(async () => {
  baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkha-ensemble-test-'));
  nodes = await specs(3);
  zk = await startLocalEnsemble({
    nodes,
    dataDir: path.join(baseDir, 'data'),
    logsDir: path.join(baseDir, 'logs'),
    extraConfig: { forceSync: 'no' },
  });
  remember();
});

afterAll(async () => {
  if (zk) {
    remember();
    await zk.stop();
    await zk.stop(); // idempotent
  }
  if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
});

describe('startLocalEnsemble', () => {
  it('forms a quorum: one leader, two followers, all serving', async () => {
    expect(zk.connectionString).toBe(nodes.map((n) => `127.0.0.1:${n.clientPort}`).join(','));
    const stats = await probeEnsemble(zk.probeTargets);
    expect(stats.map((s) => s.node)).toEqual(['zk1', 'zk2', 'zk3']);
    expect(stats.every((s) => s.up && s.error === null)).toBe(true);
    expect(stats.filter((s) => s.mode === 'leader')).toHaveLength(1);
    expect(stats.filter((s) => s.mode === 'follower')).toHaveLength(2);
    for (const s of stats) {
      expect(s.znodeCount).toBeGreaterThan(0);
      expect(s.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(s.zxid).toMatch(/^0x[0-9a-f]+$/);
      expect(s.connections).toBeGreaterThanOrEqual(1);
      expect(s.latencyAvg).not.toBeNull();
    }
    const leader = stats.find((s) => s.mode === 'leader');
    expect(leader?.syncedFollowers).toBe(2);
    expect(stats.filter((s) => s.mode === 'follower').every((s) => s.syncedFollowers === null)).toBe(true);
    expect(await zk.leader()).toBe(leader?.node);
  });

  it('writes the files where it says: cfg + dynamic membership, myid, rolling log, stdout log', () => {
    const p = zk.paths('zk2');
    expect(p.dataDir).toBe(path.join(baseDir, 'data', 'zk2'));
    expect(fs.readFileSync(path.join(p.dataDir, 'myid'), 'utf8').trim()).toBe('2');
    const cfg = fs.readFileSync(path.join(p.confDir, 'zoo.cfg'), 'utf8');
    expect(cfg).toContain('4lw.commands.whitelist=*');
    expect(cfg).toContain(`admin.serverPort=${nodes[1]?.adminPort}`);
    // 3 nodes run with dynamic reconfiguration: membership (client ports included) lives in the
    // dynamic file, which ZooKeeper re-stamps with the first leader's zxid and points zoo.cfg at.
    expect(cfg).toContain('reconfigEnabled=true');
    expect(cfg).toContain('standaloneEnabled=false');
    const dynamicFile = /^dynamicConfigFile=(.+)$/m.exec(cfg)?.[1] as string;
    expect(path.dirname(dynamicFile)).toBe(p.confDir);
    expect(path.basename(dynamicFile)).toMatch(/^zoo\.cfg\.dynamic\.[0-9a-f]+$/);
    const dynamic = fs.readFileSync(dynamicFile, 'utf8');
    expect(dynamic).toContain(
      `server.3=127.0.0.1:${nodes[2]?.quorumPort}:${nodes[2]?.electionPort}:participant;127.0.0.1:${nodes[2]?.clientPort}`,
    );
    expect(dynamic).toContain(
      `server.2=127.0.0.1:${nodes[1]?.quorumPort}:${nodes[1]?.electionPort}:participant;127.0.0.1:${nodes[1]?.clientPort}`,
    );
    expect(fs.readFileSync(p.zookeeperLog, 'utf8')).toMatch(/QuorumPeer/);
    expect(fs.readFileSync(p.stdoutLog, 'utf8')).toMatch(/starting zk2 \(server\.2\)/);
  });

  it('serves the AdminServer (servlet-api is on the classpath)', async () => {
    const res = await fetch(`http://127.0.0.1:${nodes[0]?.adminPort}/commands/ruok`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { error: unknown }).error).toBeNull();
  });

  it('refuses ports that are already in use, before starting any JVM', async () => {
    const clash = (await specs(3)).map((n, i) => (i === 1 ? { ...n, clientPort: nodes[0]?.clientPort as number } : n));
    const err = await startLocalEnsemble({
      nodes: clash,
      dataDir: path.join(baseDir, 'other-data'),
      logsDir: path.join(baseDir, 'other-logs'),
    }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('CONFLICT');
    expect((err as Error).message).toContain(`zk2 clientPort 127.0.0.1:${nodes[0]?.clientPort}`);
    expect(fs.existsSync(path.join(baseDir, 'other-logs'))).toBe(false);
  });

  it('fails fast with the log tail when a JVM dies during start-up, and stops the others', async () => {
    const dir = path.join(baseDir, 'bad-jvm');
    const t0 = Date.now();
    const err = await startLocalEnsemble({
      nodes: await specs(3),
      dataDir: path.join(dir, 'data'),
      logsDir: path.join(dir, 'logs'),
      javaOpts: ['-XX:+NoSuchOptionAnywhere'],
    }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('INTERNAL');
    expect((err as Error).message).toMatch(/exited during start-up/);
    expect((err as Error).message).toMatch(/Unrecognized VM option 'NoSuchOptionAnywhere'/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('rejects bad specs', async () => {
    const good = await specs(2);
    const bad = [good[0], { ...good[1], id: good[0]?.id }] as EnsembleNodeSpec[];
    await expect(startLocalEnsemble({ nodes: bad, dataDir: baseDir, logsDir: baseDir })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });
});

describe('failover', () => {
  it('killNode(leader) → waitForQuorum elects a different leader, data intact', async () => {
    const client = await ZkClient.connect(zk.connectionString);
    try {
      await client.setOrCreate('/failover/marker', 'before');
      const oldLeader = await zk.leader();
      expect(oldLeader).not.toBeNull();
      const oldPid = zk.pid(oldLeader as string) as number;
      await zk.killNode(oldLeader as string);
      expect(zk.isRunning(oldLeader as string)).toBe(false);
      expect(zk.pid(oldLeader as string)).toBeNull();
      expect(processExists(oldPid)).toBe(false);

      const newLeader = await zk.waitForQuorum(30_000);
      expect(newLeader).not.toBe(oldLeader);
      expect((await client.get('/failover/marker')).data?.toString()).toBe('before');
      await client.set('/failover/marker', 'after');

      // The old leader comes back as a follower of the new one, and catches up.
      await zk.startNode(oldLeader as string);
      remember();
      expect(await zk.waitForQuorum(30_000)).toBe(newLeader);
      const back = (await probeEnsemble(zk.probeTargets)).find((s) => s.node === oldLeader);
      expect(back?.mode).toBe('follower');
      const direct = await ZkClient.connect(`127.0.0.1:${nodes.find((n) => n.name === oldLeader)?.clientPort}`);
      expect((await direct.get('/failover/marker')).data?.toString()).toBe('after');
      await direct.close();
    } finally {
      await client.close();
    }
  });

  it('stopNode/startNode of a follower: it rejoins as a follower, same leader', async () => {
    const leader = await zk.waitForQuorum();
    const follower = zk.nodes.find((n) => n.name !== leader)?.name as string;
    await zk.stopNode(follower);
    expect(zk.isRunning(follower)).toBe(false);
    const down = (await probeEnsemble(zk.probeTargets)).find((s) => s.node === follower);
    expect(down?.up).toBe(false);
    expect(down?.error).toMatch(/ECONNREFUSED/);
    // Two of three still make a quorum.
    expect(await zk.waitForQuorum(10_000)).toBe(leader);

    await zk.startNode(follower);
    remember();
    expect(zk.isRunning(follower)).toBe(true);
    expect(await zk.waitForQuorum(30_000)).toBe(leader);
    const stats = await probeEnsemble(zk.probeTargets);
    expect(stats.find((s) => s.node === follower)?.mode).toBe('follower');
    expect(stats.find((s) => s.node === leader)?.syncedFollowers).toBe(2);
  });

  it('reports a JVM that dies on its own as unexpectedExit, and not stopNode exits', async () => {
    const leader = await zk.waitForQuorum();
    const victim = zk.nodes.find((n) => n.name !== leader)?.name as string;
    const events: NodeExitInfo[] = [];
    const unexpected: NodeExitInfo[] = [];
    const onExit = (i: NodeExitInfo): void => void events.push(i);
    const onUnexpected = (i: NodeExitInfo): void => void unexpected.push(i);
    zk.on('exit', onExit);
    zk.on('unexpectedExit', onUnexpected);
    try {
      const pid = zk.pid(victim) as number;
      process.kill(pid, 'SIGKILL'); // behind the launcher's back: a crash
      await vi.waitFor(() => expect(unexpected).toHaveLength(1), { timeout: 5000 });
      expect(unexpected[0]).toMatchObject({ name: victim, pid, signal: 'SIGKILL', expected: false });
      expect(zk.isRunning(victim)).toBe(false);

      await zk.startNode(victim);
      remember();
      await zk.stopNode(victim); // asked for: 'exit' only
      expect(events.at(-1)).toMatchObject({ name: victim, expected: true });
      expect(unexpected).toHaveLength(1);
      await zk.startNode(victim);
      remember();
      await zk.waitForQuorum(30_000);
    } finally {
      zk.off('exit', onExit);
      zk.off('unexpectedExit', onUnexpected);
    }
  });

  it('startNode waits for a port held by someone else, then fails with CONFLICT', async () => {
    const leader = await zk.waitForQuorum();
    const spec = zk.nodes.find((n) => n.name !== leader) as EnsembleNodeSpec;
    await zk.stopNode(spec.name);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(spec.adminPort, '127.0.0.1', resolve));
    try {
      const t0 = Date.now();
      const err = await zk.startNode(spec.name, 1500).catch((e: unknown) => e);
      expect(isAppError(err) && err.code).toBe('CONFLICT');
      expect((err as Error).message).toContain(`adminPort 127.0.0.1:${spec.adminPort}`);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(zk.isRunning(spec.name)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    await zk.startNode(spec.name);
    remember();
    await zk.waitForQuorum(30_000);
  });

  it('keeps the data across a full stop() and start()', async () => {
    const client = await ZkClient.connect(zk.connectionString);
    await client.setOrCreate('/persist/me', 'still here');
    await client.close();

    await zk.stop();
    expect(zk.nodes.every((n) => !zk.isRunning(n.name))).toBe(true);
    await zk.start();
    remember();

    const again = await ZkClient.connect(zk.connectionString);
    try {
      expect((await again.get('/persist/me')).data?.toString()).toBe('still here');
    } finally {
      await again.close();
    }
  });

  it('moves persistent data to new ports: a dynamic file naming the old ports is replaced by a fresh seed', async () => {
    const dir = path.join(baseDir, 'moved');
    const opts = { dataDir: path.join(dir, 'data'), logsDir: path.join(dir, 'logs'), extraConfig: { forceSync: 'no' } };
    const first = await startLocalEnsemble({ nodes: await specs(3), ...opts });
    try {
      const c = await ZkClient.connect(first.connectionString);
      await c.setOrCreate('/moved/marker', 'kept');
      await c.close();
    } finally {
      await first.stop();
    }
    const moved = await startLocalEnsemble({ nodes: await specs(3), ...opts });
    try {
      const c = await ZkClient.connect(moved.connectionString);
      expect((await c.get('/moved/marker')).data?.toString()).toBe('kept');
      const config = (await c.get('/zookeeper/config')).data?.toString() ?? '';
      for (const n of moved.nodes) expect(config).toContain(`:${n.quorumPort}:${n.electionPort}:participant;127.0.0.1:${n.clientPort}`);
      await c.close();
    } finally {
      await moved.stop();
    }
  });

  it('refuses data written by another server id', async () => {
    const other = await specs(1);
    const dir = path.join(baseDir, 'wrong-id');
    fs.mkdirSync(path.join(dir, 'data', 'zk1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'zk1', 'myid'), '7\n');
    const err = await startLocalEnsemble({
      nodes: other,
      dataDir: path.join(dir, 'data'),
      logsDir: path.join(dir, 'logs'),
    }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('CONFLICT');
    expect((err as Error).message).toMatch(/server id 7/);
  });
});

describe('ZooKeeper install', () => {
  it('rejects a ZK_HOME without ZooKeeper jars, and startLocalEnsemble passes that on', async () => {
    const empty = path.join(baseDir, 'empty-home');
    fs.mkdirSync(empty, { recursive: true });
    expect(() => findZooKeeperClasspath(empty)).toThrow(/no ZooKeeper jars found in ZK_HOME/);
    await expect(startLocalEnsemble({ nodes: await specs(1), dataDir: empty, logsDir: empty, zkHome: empty })).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
    });
  });
});

describe('single node', () => {
  it('a one-node ensemble runs standalone and counts as its own quorum', async () => {
    const one = await startTestEnsemble({ size: 1 });
    try {
      expect(await one.waitForQuorum(10_000)).toBe('zk1');
      expect(await one.leader()).toBe('zk1');
      const [s] = await one.probe();
      expect(s).toMatchObject({ up: true, mode: 'standalone', syncedFollowers: null });
    } finally {
      await one.stop();
    }
    expect(fs.existsSync(one.baseDir)).toBe(false);
  });
});

describe('no orphans', () => {
  it('stop() ends every JVM this file started (checked in the last test)', async () => {
    remember();
    expect(pidsSeen.size).toBeGreaterThanOrEqual(3);
    await zk.stop();
    await zk.stop();
    for (const pid of pidsSeen) expect(processExists(pid)).toBe(false);
  });
});
