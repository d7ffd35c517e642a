import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createCaller, createContextInner } from '@zkha/api';
import { findInconsistencies } from '@zkha/services';

import { bootTestServer, eventually, type TestServer } from './testing.ts';

/**
 * Failure drills against the whole server on the embedded default: real JVMs killed and stopped, real agent
 * processes SIGKILLed, real files moving. Each drill prints a `[drill]` line with what was injected, what was
 * observed, files lost, duplicates, repairs and time to recover (the closing note's table comes from them).
 */
const NODES = ['zk1', 'zk2', 'zk3'];
const AGENT_SESSION_TIMEOUT = 4000;
let t: TestServer;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  t = await bootTestServer({
    AGENT_SESSION_TIMEOUT: String(AGENT_SESSION_TIMEOUT),
    AGENT_RESTART_DELAY_MS: '6000',
    LOG_LEVEL: 'warn',
  });
  caller = createCaller(createContextInner({ services: t.server.services }));
  await eventually(
    () => NODES.every((n) => t.server.services.liveness!.list().find((s) => s.node === n)?.status === 'OK'),
    20_000,
    'three OK stores',
  );
}, 120_000);
afterAll(async () => {
  await t?.close();
});

/** uuid → sha256 of every file, from the database through the API. */
async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let offset = 0; ; offset += 500) {
    const page = await caller.files.list({ limit: 500, offset });
    for (const f of page.items) out.set(f.uuid, f.sha256);
    if (page.items.length < 500) return out;
  }
}

/** The invariant after a drill: each file once on disk, no partial copies, disk = database = ZooKeeper. */
async function invariant(before: Map<string, string>) {
  const { storage, db, metadata } = t.server.services;
  const after = await snapshot();
  const lost = [...before.keys()].filter((uuid) => after.get(uuid) !== before.get(uuid)).length;
  const names = new Map<string, number>();
  const partial: string[] = [];
  for (const n of NODES) {
    for (const f of await storage.listNodeFiles(n)) names.set(f.name, (names.get(f.name) ?? 0) + 1);
    // The agents' folders, looked at directly: the drill plays the operator (the control plane never does).
    partial.push(...(await readdir(path.join(t.dir, 'uploads', n))).filter((f) => f.endsWith('.part') && !f.startsWith('.zkha-probe-')));
  }
  const duplicates = [...names.values()].filter((c) => c > 1).length;
  const problems = await findInconsistencies({ db, storage, metadata, nodes: NODES });
  return { lost, duplicates, partial, problems, files: after.size, onDisk: names.size };
}

/**
 * Waits for the queue to empty and, unless `queueOnly`, for every copy an unreachable target owes a delete (those
 * wait for the target's agent to be back).
 */
async function settle(timeoutMs = 120_000, queueOnly = false): Promise<void> {
  const timer = setTimeout(() => {
    void caller.migrations
      .progress()
      .then((p) =>
        console.log(
          `[settle] still open: ${JSON.stringify(p.totals)} waiting ${JSON.stringify(p.waiting.slice(0, 3))} quorum ${JSON.stringify(t.server.services.cluster.summary())} stores ${JSON.stringify(t.server.services.liveness!.list().map((x) => [x.node, x.status, x.reason]))} agents ${NODES.map((n) => `${n}:${t.server.agents!.isRunning(n)}`).join(',')} session ${t.server.services.session.state}`,
        ),
      );
  }, timeoutMs - 2_000);
  await eventually(
    async () => {
      const p = await caller.migrations.progress();
      return p.totals.pending + p.totals.running + p.totals.paused + (queueOnly ? 0 : p.totals.cleanupsOwed) === 0;
    },
    timeoutMs,
    'the migration queue to empty',
  ).finally(() => clearTimeout(timer));
}

async function leader(): Promise<string | null> {
  return (await caller.nodes.summary()).leader;
}

describe('failure drills', () => {
  it('leader killed during stress and a rebalance: reads keep answering, a new leader serves, no move lost or duplicated', async () => {
    await caller.workload.stress({ node: 'zk1', files: 120, sizeKb: 8, triggerScheduler: false });
    // 64 KiB/s per node: the plan takes a while, so the kill lands in the middle of it.
    await caller.migrations.setCaps({ bandwidthBytesPerSec: 64 * 1024 });
    const before = await snapshot();
    const queued = await caller.migrations.enqueue({ strategy: 'count' });
    expect(queued.queued).toBeGreaterThan(50);

    let reads = 0;
    const readFailures: string[] = [];
    let reading = true;
    const readLoop = (async () => {
      while (reading) {
        for (const path of ['/api/scheduler/diagnostics', '/api/files?limit=5', '/api/nodes']) {
          try {
            const res = await fetch(`${t.url}${path}`);
            reads++;
            if (!res.ok) readFailures.push(`${path}: ${res.status}`);
          } catch (err) {
            readFailures.push(`${path}: ${String(err)}`);
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await new Promise((r) => setTimeout(r, 1500));
    const old = (await leader())!;
    const killedAt = Date.now();
    await caller.nodes.kill({ node: old });
    // More files while the ensemble elects: each call either lands whole or is refused with a reason.
    const writes = await Promise.allSettled([caller.workload.stress({ node: 'zk2', files: 10, sizeKb: 4, triggerScheduler: false })]);
    const newLeader = await eventually(
      async () => {
        const l = await leader();
        return l !== null && l !== old ? l : undefined;
      },
      30_000,
      'a new leader',
    );
    const electedMs = Date.now() - killedAt;
    await caller.migrations.setCaps({ bandwidthBytesPerSec: null });
    // The killed node is still down: moves to or from it end (failed, the file whole on its source), and the
    // copies its agent may hold wait for it.
    await settle(120_000, true);
    reading = false;
    await readLoop;
    await caller.nodes.start({ node: old });
    // The node's files are back once its agent is: its server and its agent went down together, as a host would.
    await eventually(
      () => NODES.every((n) => t.server.services.liveness!.list().find((s) => s.node === n)?.status === 'OK'),
      30_000,
      'every store OK again',
    );
    await settle();
    const recoveredMs = Date.now() - killedAt;

    const landed = writes[0].status === 'fulfilled' ? 10 : 0;
    const inv = await invariant(before);
    const failed = await caller.migrations.list({ status: 'failed', limit: 500 });
    console.log(
      `[drill] leader killed during stress + rebalance | injected: SIGKILL of leader ${old} with ${queued.queued} moves queued | observed: new leader ${newLeader} in ${electedMs} ms, ${reads} reads with ${readFailures.length} failures, ${failed.length} moves failed and rolled back, extra stress ${writes[0].status} | lost ${inv.lost} | duplicates ${inv.duplicates} | repairs 0 | recovered in ${recoveredMs} ms`,
    );
    expect(readFailures).toEqual([]);
    expect(inv).toMatchObject({ lost: 0, duplicates: 0, partial: [], problems: [] });
    expect(inv.files).toBe(before.size + landed);
    expect(inv.onDisk).toBe(inv.files);
  }, 240_000);

  it('quorum lost (2 of 3 stopped): reads answer, writes get NO_QUORUM, queued work waits, healthz degraded; all resumes with quorum', async () => {
    await settle();
    await caller.workload.stress({ node: 'zk1', files: 30, sizeKb: 4, triggerScheduler: false });
    const before = await snapshot();
    await caller.migrations.pause({});
    const queued = await caller.migrations.enqueue({ strategy: 'count' });
    expect(queued.queued).toBeGreaterThan(0);

    const current = (await leader())!;
    const stopped = NODES.filter((n) => n !== current)
      .slice(0, 1)
      .concat([current]); // a follower, then the leader
    const lostAt = Date.now();
    for (const n of stopped) await caller.nodes.stop({ node: n });
    await eventually(async () => !(await caller.nodes.summary()).quorum, 20_000, 'quorum lost');

    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded', database: true, zookeeper: { quorum: false } });
    const list = await fetch(`${t.url}/api/files?limit=5`);
    expect(list.status).toBe(200);
    const write = await fetch(`${t.url}/api/demo/stress`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'zk3', files: 3, size_kb: 1, trigger_scheduler: false }),
    });
    const writeBody = (await write.json()) as { code?: string; error?: string; message?: string };
    expect(write.status).toBe(503);
    expect(JSON.stringify(writeBody)).toMatch(/NO_QUORUM/);
    expect(JSON.stringify(writeBody)).toMatch(/no quorum \(\d of 3 servers serving\)/);

    await caller.migrations.resume({});
    await new Promise((r) => setTimeout(r, 2000));
    const waiting = await caller.migrations.progress();
    expect(waiting.totals.pending + waiting.totals.running).toBe(queued.queued);
    expect(JSON.stringify(waiting.waiting)).toMatch(/quorum/i);

    for (const n of stopped) await caller.nodes.start({ node: n });
    await eventually(async () => (await caller.nodes.summary()).quorum, 60_000, 'quorum back');
    const restoredAt = Date.now();
    await eventually(
      () => NODES.every((n) => t.server.services.liveness!.list().find((s) => s.node === n)?.status === 'OK'),
      30_000,
      'every store OK again',
    );
    await settle();
    const reconcile = await eventually(
      async () => (await caller.logs.operations({ action: 'zk_reconcile', limit: 1 })).items[0],
      30_000,
      'the reconciliation after quorum returned',
    );
    const inv = await invariant(before);
    console.log(
      `[drill] quorum lost | injected: stop ${stopped.join(' and ')} (1 of 3 left) | observed: healthz 503 degraded, reads 200, stress 503 NO_QUORUM, ${queued.queued} queued moves waited then completed | lost ${inv.lost} | duplicates ${inv.duplicates} | repairs ${JSON.stringify(reconcile.details.repaired ?? 0)} | quorum back after ${restoredAt - lostAt} ms, queue done ${Date.now() - restoredAt} ms later`,
    );
    expect(inv).toMatchObject({ lost: 0, duplicates: 0, partial: [], problems: [] });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  }, 240_000);

  it("a node's agent SIGKILLed while files move to it: every move completes or rolls back, never half-done", async () => {
    await settle();
    await caller.workload.stress({ node: 'zk1', files: 60, sizeKb: 8, triggerScheduler: false });
    await caller.migrations.setCaps({ bandwidthBytesPerSec: 48 * 1024 });
    const before = await snapshot();
    const drillStart = new Date().toISOString();
    const queued = await caller.migrations.enqueue({ strategy: 'count' });
    expect(queued.plan.moves.some((m) => m.to === 'zk3')).toBe(true);
    await eventually(
      async () => (await caller.migrations.progress()).tasks.some((m) => m.target === 'zk3' && m.status === 'running'),
      20_000,
      'a move to zk3 running',
    );
    const killedAt = Date.now();
    process.kill(t.server.agents!.pid('zk3')!, 'SIGKILL');
    await eventually(
      () => t.server.services.liveness!.list().find((s) => s.node === 'zk3')?.status === 'OFFLINE',
      AGENT_SESSION_TIMEOUT + 10_000,
      'zk3 OFFLINE',
    );
    const offlineMs = Date.now() - killedAt;
    await caller.migrations.setCaps({ bandwidthBytesPerSec: null });
    await eventually(() => t.server.services.liveness!.list().find((s) => s.node === 'zk3')?.status === 'OK', 30_000, 'zk3 back OK');
    await settle();
    const recoveredMs = Date.now() - killedAt;
    const inv = await invariant(before);
    const tasks = await caller.migrations.list({ limit: 500 });
    const mine = tasks.filter((m) => m.target === 'zk3' && m.createdAt >= drillStart);
    const completed = mine.filter((m) => m.status === 'completed').length;
    const rolledBack = mine.filter((m) => m.status === 'failed' || m.status === 'cancelled').length;
    console.log(
      `[drill] agent killed during moves to its node | injected: SIGKILL of zk3's agent with moves to zk3 running | observed: zk3 OFFLINE after ${offlineMs} ms, ${completed} moves to zk3 completed, ${rolledBack} rolled back | lost ${inv.lost} | duplicates ${inv.duplicates} | repairs 0 | recovered in ${recoveredMs} ms`,
    );
    expect(inv).toMatchObject({ lost: 0, duplicates: 0, partial: [], problems: [] });
    expect(inv.files).toBe(before.size);
  }, 240_000);
});
