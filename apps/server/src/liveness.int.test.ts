import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createCaller, createContextInner } from '@zkha/api';

import { bootTestServer, eventually, type TestServer } from './testing.ts';

/**
 * Liveness through ephemeral znodes and node control through the process driver, against the whole
 * server: real agent processes with their own sessions, real JVMs, the real stores table.
 */
const AGENT_SESSION_TIMEOUT = 4000;
let t: TestServer;
let caller: ReturnType<typeof createCaller>;
const status = (node: string) => t.server.services.liveness!.list().find((s) => s.node === node)?.status;

beforeAll(async () => {
  t = await bootTestServer({
    AGENT_SESSION_TIMEOUT: String(AGENT_SESSION_TIMEOUT),
    // Slow heartbeats, so the data watch does not repair the table before the reconciler gets to it.
    AGENT_HEARTBEAT_MS: '5000',
    AGENT_RESTART_DELAY_MS: '9000', // longer than the session timeout, so the OFFLINE state is observable
    LIVENESS_RECONCILE_INTERVAL: '3600', // reconciliation is triggered by hand below
  });
  caller = createCaller(createContextInner({ services: t.server.services }));
});
afterAll(async () => {
  await t?.close();
});

describe('storage-agent liveness', () => {
  it('every node registers an ephemeral alive znode and its store row is OK', async () => {
    await eventually(() => ['zk1', 'zk2', 'zk3'].every((n) => status(n) === 'OK'), 15_000, 'three OK stores');
    const stores = await caller.nodes.stores();
    expect(stores.map((s) => [s.node, s.status])).toEqual([
      ['zk1', 'OK'],
      ['zk2', 'OK'],
      ['zk3', 'OK'],
    ]);
    expect(stores[0]!.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await t.server.services.session.client.exists('/zkha/stores/zk2/alive')).toBe(true);
  });

  it('a SIGKILLed agent turns OFFLINE after its session times out, is never a scheduler target, and comes back OK', async () => {
    await caller.workload.stress({ node: 'zk1', files: 12, sizeKb: 1, triggerScheduler: false });
    const pid = t.server.agents!.pid('zk2')!;
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await eventually(() => status('zk2') === 'OFFLINE', AGENT_SESSION_TIMEOUT + 8_000, 'zk2 OFFLINE');
    const tookMs = Date.now() - killedAt;
    console.log(`[figure] agent SIGKILL -> stores row OFFLINE: ${tookMs} ms (agent session timeout ${AGENT_SESSION_TIMEOUT} ms)`);
    // The session's expiry decides, not the process exit (ZooKeeper expires sessions on tick boundaries).
    expect(tookMs).toBeGreaterThanOrEqual(1000);

    const plan = await caller.scheduler.diagnostics();
    expect(plan.offlineNodes).toEqual(['zk2']);
    expect(plan.targetNode).toBe('zk3');
    const run = await caller.scheduler.run();
    expect(run.executed).toBe(true);
    expect(run.before.targetNode).not.toBe('zk2');

    const ops = await caller.logs.operations({ action: 'store_offline', node: 'zk2', limit: 5 });
    expect(ops.items[0]?.details).toMatchObject({ level: 'alert', to: 'OFFLINE' });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain('zk_demo_store_status{node="zk2"} 0');
    expect(metrics).toMatch(/zk_demo_store_offline_total\{node="zk2"\} [1-9]/);

    // The supervisor restarts the agent; it registers again and the node rejoins the pool.
    await eventually(() => status('zk2') === 'OK', 25_000, 'zk2 back to OK');
    expect((await caller.scheduler.diagnostics()).offlineNodes).toEqual([]);
  });

  it('the reconciler repairs an emptied table and a hand-edited row, and says what it fixed', async () => {
    const { db } = t.server.services;
    db.run(sql`delete from stores`);
    expect(await caller.nodes.stores()).toEqual([]);
    // An empty table is a normal state for readers: no crash, no error.
    expect((await caller.nodes.list()).every((n) => n.store === null)).toBe(true);

    const report = await caller.nodes.reconcileStores();
    expect(report.repairs.map((r) => [r.node, r.from, r.to])).toEqual([
      ['zk1', 'missing', 'OK'],
      ['zk2', 'missing', 'OK'],
      ['zk3', 'missing', 'OK'],
    ]);
    console.log(`[figure] reconciler on an emptied table: ${report.repairs.length} rows repaired of ${report.checked} checked`);

    db.run(sql`update stores set status = 'OFFLINE', reason = 'edited by hand' where node = 'zk3'`);
    const again = await caller.nodes.reconcileStores();
    expect(again.repairs).toEqual([expect.objectContaining({ node: 'zk3', from: 'OFFLINE', to: 'OK' })]);
    expect(status('zk3')).toBe('OK');
    const ops = await caller.logs.operations({ action: 'stores_reconcile', limit: 5 });
    expect(ops.items).toHaveLength(2);
    expect((await caller.nodes.reconcileStores()).repairs).toEqual([]);
  });
});

describe('node control through the process driver', () => {
  it('answers with the quorum impact before acting', async () => {
    expect((await caller.nodes.impact({ node: 'zk2', action: 'stop' })).message).toBe('stopping zk2 leaves 2 of 3: quorum kept');
    expect(await caller.nodes.control()).toEqual({ kind: 'process' });
  });

  it('stop takes the node and its agent down, start brings both back, each recorded with before and after', async () => {
    const stopped = await caller.nodes.stop({ node: 'zk3' });
    expect(stopped).toMatchObject({ before: { state: 'running' }, after: { state: 'stopped' }, impact: { keepsQuorum: true } });
    try {
      await eventually(() => status('zk3') === 'OFFLINE', 5_000, 'zk3 OFFLINE after stop');
      await eventually(async () => (await t.server.services.cluster.refresh()).filter((s) => s.up).length === 2, 20_000, 'two serving');
      expect((await caller.nodes.list()).find((n) => n.node === 'zk3')?.up).toBe(false);
      expect((await caller.nodes.impact({ node: 'zk1', action: 'stop' })).message).toBe('stopping zk1 now loses quorum: writes will stop');
    } finally {
      await caller.nodes.start({ node: 'zk3' }).catch(() => undefined);
    }
    const started = await caller.nodes.start({ node: 'zk3' }); // idempotent: already running
    expect(started.after.state).toBe('running');
    await eventually(() => status('zk3') === 'OK', 20_000, 'zk3 OK after start');
    const ops = await caller.logs.operations({ node: 'zk3', limit: 20 });
    const actions = ops.items.map((o) => o.action);
    expect(actions).toContain('node_stop');
    expect(actions).toContain('node_start');
    const stopOp = ops.items.find((o) => o.action === 'node_stop')!;
    expect(stopOp.details).toMatchObject({ driver: 'process', impact: 'stopping zk3 leaves 2 of 3: quorum kept' });
    expect(stopOp.beforeMetrics).toMatchObject({ runtime: { state: 'running' } });
    expect(stopOp.afterMetrics).toMatchObject({ runtime: { state: 'stopped' } });
  });

  it('killing the leader: the API reports a new leader', async () => {
    await eventually(async () => (await t.server.services.cluster.refresh()).filter((s) => s.up).length === 3, 20_000, 'all up');
    const leader = t.server.services.cluster.summary().leader!;
    const killedAt = Date.now();
    await caller.nodes.kill({ node: leader });
    const newLeader = await eventually(
      async () => {
        const s = await caller.nodes.summary();
        return s.leader !== null && s.leader !== leader ? s.leader : undefined;
      },
      20_000,
      'a new leader',
    );
    console.log(`[figure] leader ${leader} SIGKILL -> API reports new leader ${newLeader}: ${Date.now() - killedAt} ms`);
    await caller.nodes.start({ node: leader });
  });

  it('a server on an external ensemble (ZK_NODES) without Docker control refuses node actions clearly', async () => {
    const members = t.server.ensemble!.nodes.map((n) => `${n.name}=127.0.0.1:${n.clientPort}`).join(',');
    // Agents started elsewhere need their token here: without it the server refuses to start, and says why.
    await expect(bootTestServer({ ZK_NODES: members, AGENTS_ENABLED: 'false' })).rejects.toThrow(
      /AGENTS_ENABLED=false: .* set AGENT_TOKEN/,
    );
    const other = await bootTestServer({ ZK_NODES: members, AGENTS_ENABLED: 'false', AGENT_TOKEN: t.server.agents!.dataToken! });
    try {
      expect(other.server.ensemble).toBeNull(); // it started no ZooKeeper of its own
      // A second instance on the same ensemble follows the first (over HTTP its mutations would go to the leader,
      // which runs the servers): asked directly, its own node control refuses and says why.
      expect(other.server.services.control!.role()).toBe('follower');
      const c = createCaller(createContextInner({ services: other.server.services }));
      await expect(c.nodes.stop({ node: 'zk1' })).rejects.toMatchObject({
        code: 'NOT_IMPLEMENTED',
        message: expect.stringMatching(/DOCKER_CONTROL_ENABLED=true/),
      });
      expect(await c.nodes.control()).toEqual({ kind: 'disabled' });
      expect((await c.nodes.list()).filter((n) => n.mode === 'leader')).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('unknown nodes are refused before anything is touched', async () => {
    await expect(caller.nodes.stop({ node: 'zk9' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
