import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AgentSupervisor } from '@zkha/agent';
import { FileMetadataRegistry, storageOverAgents } from '@zkha/services';
import { ZkSession } from '@zkha/zk';
import { getFreePortBlock, startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { spawnServer, startExternalAgents, stopProcess, testServerEnv } from './testing.ts';

/**
 * Failover of the control plane: three zkha server processes on one ensemble and one set of storage agents; the
 * leader is SIGKILLed in the middle of a 500-move plan. Another instance must lead within the session timeout plus
 * one second, take the in-flight moves over from the shared journal and finish the plan: 0 lost, 0 duplicated, and
 * every instance's database (the killed one's too, once restarted) equal to ZooKeeper and to the agents' folders.
 */
const NODES = ['zk1', 'zk2', 'zk3'];
const FILES = 753; // all on zk1: balancing them (threshold 5) is a plan of about 500 moves
const SESSION_TIMEOUT = 4000;

interface Instance {
  id: string;
  url: string;
  env: NodeJS.ProcessEnv;
  proc: ChildProcess | null;
}

let ensemble: TestEnsemble;
let dir: string;
let agents: AgentSupervisor;
const instances: Instance[] = [];

async function start(i: Instance): Promise<void> {
  i.proc = await spawnServer(i.env, i.id);
}

async function kill(i: Instance, signal: NodeJS.Signals): Promise<void> {
  await stopProcess(i.proc, signal);
  i.proc = null;
}

async function get<T>(i: Instance, p: string): Promise<T> {
  const res = await fetch(`${i.url}${p}`);
  if (!res.ok) throw new Error(`${i.id} ${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function trpc<T>(i: Instance, proc: string, input?: unknown, method: 'GET' | 'POST' = 'GET'): Promise<T> {
  const res = await fetch(
    `${i.url}/trpc/${proc}`,
    method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(input ?? {}) } : {},
  );
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!res.ok || !body.result) throw new Error(`${i.id} ${proc}: ${res.status} ${JSON.stringify(body.error)}`);
  return body.result.data;
}

/**
 * The instance's part as /healthz reports it, 'down' if it does not answer. A 503 (degraded) still names the role:
 * an instance just resumed from SIGSTOP may find its four-letter-word probes timed out during the pause and say
 * 'degraded' for a moment, and what this test asks is whether it still thinks it leads.
 */
async function role(i: Instance): Promise<string> {
  try {
    const body = (await (await fetch(`${i.url}/healthz`)).json()) as { control: { role: string } };
    return body.control.role;
  } catch {
    return 'down';
  }
}

/** uuid → node, as an instance's database has it (through its API). */
async function placement(i: Instance): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let offset = 0; ; offset += 500) {
    const page = await get<{ items: { uuid: string; node: string }[] }>(i, `/api/files?limit=500&offset=${offset}`);
    for (const f of page.items) out.set(f.uuid, f.node);
    if (page.items.length < 500) return out;
  }
}

beforeAll(async () => {
  // A short tick, so a dead session expires within its timeout plus half a second.
  ensemble = await startTestEnsemble({ size: 3, tickTime: 500 });
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-failover-'));
  const base = await testServerEnv(dir);
  agents = await startExternalAgents(ensemble, NODES, dir);
  for (const id of ['a', 'b', 'c']) {
    const port = await getFreePortBlock(1);
    const own = path.join(dir, id);
    instances.push({
      id,
      url: `http://127.0.0.1:${port}`,
      proc: null,
      env: {
        ...process.env,
        ...base,
        PORT: String(port),
        INSTANCE_ID: id,
        DATABASE_PATH: path.join(own, 'zkha.db'),
        LOG_STORE_PATH: path.join(own, 'logs.db'),
        ZK_NODES: ensemble.nodes.map((n) => `${n.name}=127.0.0.1:${n.clientPort}`).join(','),
        ZK_SESSION_TIMEOUT: String(SESSION_TIMEOUT),
        AGENTS_ENABLED: 'false',
        AGENT_TOKEN: agents.dataToken!,
        // Slow enough that the plan is well under way, not done, when the leader dies.
        MIGRATION_BANDWIDTH_BYTES_PER_SEC: String(160 * 1024),
        LOG_LEVEL: 'warn',
      },
    });
  }
}, 120_000);

afterAll(async () => {
  for (const i of instances) await kill(i, 'SIGKILL');
  await agents?.stopAll();
  await ensemble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Totals = { totals: { pending: number; running: number; paused: number } };

/** The first of `among` to say it leads, and how long after `since` it did. */
async function nextLeader(among: readonly Instance[], since: number): Promise<{ leader: Instance; ms: number }> {
  for (;;) {
    for (const i of among) if ((await role(i)) === 'leader') return { leader: i, ms: Date.now() - since };
    if (Date.now() - since > 30_000) throw new Error('no instance took over within 30 s');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until `leader` has nothing queued and the counts are within the threshold. */
async function planFinished(leader: Instance): Promise<void> {
  const finishBy = Date.now() + 120_000;
  for (;;) {
    const p = await trpc<Totals>(leader, 'migrations.progress');
    const counts: Record<string, number> = {};
    for (const n of (await placement(leader)).values()) counts[n] = (counts[n] ?? 0) + 1;
    const values = NODES.map((n) => counts[n] ?? 0);
    if (p.totals.pending + p.totals.running + p.totals.paused === 0 && Math.max(...values) - Math.min(...values) <= 5) return;
    if (Date.now() > finishBy) throw new Error(`the plan was not finished: ${JSON.stringify({ totals: p.totals, counts })}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Queues a plan through `via` and waits until `leader` has done `atLeast` of its moves. */
async function planUnderWay(
  via: Instance,
  leader: Instance,
  atLeast: number,
): Promise<{ queued: number; done: number; totals: Totals['totals'] }> {
  const { queued } = await trpc<{ queued: number }>(via, 'migrations.enqueue', { strategy: 'count' }, 'POST');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const p = await trpc<Totals>(leader, 'migrations.progress');
    const done = queued - p.totals.pending - p.totals.running - p.totals.paused;
    if (done >= atLeast) return { queued, done, totals: p.totals };
    if (Date.now() > deadline) throw new Error('the plan did not get under way');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stress(via: Instance, files: number): Promise<void> {
  const res = await fetch(`${via.url}/api/demo/stress`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ node: 'zk1', files, size_kb: 4, trigger_scheduler: false }),
  });
  expect(res.status).toBe(200);
}

/** ZooKeeper, the agents and every running instance's database agree; each of `files` files exactly once on disk. */
async function invariant(files: number): Promise<void> {
  const session = await ZkSession.connect(ensemble.connectionString, {
    sessionTimeout: 6000,
    auth: { user: base().user, password: base().password },
  });
  const storage = storageOverAgents(session, { token: agents.dataToken! });
  try {
    const registry = new FileMetadataRegistry(session);
    const zk = new Map<string, string>();
    for (const uuid of await registry.list()) zk.set(uuid, (await registry.get(uuid))!.node);
    expect(zk.size).toBe(files);
    const onDisk = new Map<string, string[]>();
    for (const n of NODES) for (const f of await storage.listNodeFiles(n)) onDisk.set(f.name, [...(onDisk.get(f.name) ?? []), n]);
    expect(onDisk.size).toBe(files);
    expect([...onDisk.values()].filter((where) => where.length !== 1)).toEqual([]); // no duplicates
    const running = instances.filter((i) => i.proc);
    // Followers apply the last feed entries a moment after the leader wrote them.
    const deadline = Date.now() + 10_000;
    for (const i of running) {
      for (;;) {
        const mine = await placement(i);
        if (mine.size === zk.size && [...zk].every(([u, n]) => mine.get(u) === n)) break;
        if (Date.now() > deadline) expect(mine, `${i.id}'s database`).toEqual(zk);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const names = new Map<string, string>();
    for (let offset = 0; ; offset += 500) {
      const page = await get<{ items: { uuid: string; name: string }[] }>(running[0]!, `/api/files?limit=500&offset=${offset}`);
      for (const f of page.items) names.set(f.uuid, f.name);
      if (page.items.length < 500) break;
    }
    for (const [uuid, node] of zk) expect(onDisk.get(names.get(uuid)!), uuid).toEqual([node]);
  } finally {
    storage.close();
    await session.close();
  }
}

describe('control plane failover', () => {
  let leader: Instance;
  it('the leader SIGKILLed mid-plan: another leads within the session timeout + 1 s and finishes the plan; nothing lost or duplicated', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    await start(a);
    await start(b);
    await start(c);
    expect([await role(a), await role(b), await role(c)]).toEqual(['leader', 'follower', 'follower']);

    // Through followers: the stress and the plan are forwarded to the leader.
    await stress(b, FILES);
    const plan = await planUnderWay(c, a, 60);
    expect(plan.queued).toBeGreaterThanOrEqual(495);
    const killedAt = Date.now();
    await kill(a, 'SIGKILL');
    const { leader: next, ms: takeoverMs } = await nextLeader([b, c], killedAt);
    leader = next;
    const other = next === b ? c : b;
    expect(await role(other)).toBe('follower');
    await planFinished(next);
    const takeover = (
      await get<{
        takeovers: {
          from: string;
          to: string;
          detectionMs: number;
          electionMs: number;
          recoveryMs: number;
          recovered: Record<string, number>;
        }[];
      }>(other, '/api/control')
    ).takeovers[0]!;
    expect(takeover).toMatchObject({ from: 'a', to: next.id });

    // The killed instance comes back as a follower and reads ZooKeeper's state.
    await start(a);
    expect(await role(a)).toBe('follower');
    await invariant(FILES);
    console.log(
      `[figure] failover: leader a SIGKILLed with ${plan.done} of ${plan.queued} moves done (${plan.totals.running} running, ${plan.totals.pending} pending); ${next.id} led ${takeoverMs} ms later (session timeout ${SESSION_TIMEOUT} ms; detection ${takeover.detectionMs} ms, election ${takeover.electionMs} ms, recovery ${takeover.recoveryMs} ms; recovered ${JSON.stringify(takeover.recovered)}); plan finished, 0 lost, 0 duplicated, 3 databases = ZooKeeper = agents`,
    );
    expect(takeoverMs).toBeLessThanOrEqual(SESSION_TIMEOUT + 1000);
  }, 300_000);

  it('the leader paused (SIGSTOP) past its session timeout mid-plan: another takes over; resumed, it knows it follows and writes nothing', async () => {
    const paused = leader;
    const others = instances.filter((i) => i !== paused);
    await stress(others[0]!, 300);
    const plan = await planUnderWay(others[1]!, paused, 30);
    const stoppedAt = Date.now();
    paused.proc!.kill('SIGSTOP');
    const { leader: next, ms } = await nextLeader(others, stoppedAt);
    // Paused well past its session timeout, then resumed in the middle of the new leader's work.
    await new Promise((r) => setTimeout(r, Math.max(0, SESSION_TIMEOUT + 2000 - (Date.now() - stoppedAt))));
    const resumedAt = new Date().toISOString();
    paused.proc!.kill('SIGCONT');
    expect(await role(paused)).toBe('follower');
    await planFinished(next);
    await invariant(FILES + 300);
    // What it did after it woke: stepped down; no move committed or cleaned up by it.
    const ops = await get<{ items: { action: string; timestamp: string; details: Record<string, unknown> }[] }>(
      paused,
      `/api/operations?limit=200`,
    );
    const after = ops.items.filter((o) => o.timestamp >= resumedAt);
    expect(after.map((o) => o.action)).toContain('control_follower');
    expect(after.filter((o) => o.action === 'migrate' || o.action === 'auto_migrate')).toEqual([]);
    console.log(
      `[figure] SIGSTOP: leader ${paused.id} paused with ${plan.done} of ${plan.queued} moves done; ${next.id} led ${ms} ms later; ${paused.id} resumed after ${SESSION_TIMEOUT + 2000} ms as a follower (${after.map((o) => o.action).join(', ')}); plan finished, 0 lost, 0 duplicated`,
    );
  }, 300_000);
});

function base(): { user: string; password: string } {
  const [user, password] = String(instances[0]!.env.ZK_AUTH).split(':') as [string, string];
  return { user, password };
}
