import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { countFilesByNode, listFilesForPlanning } from '@zkha/db';

import { findInconsistencies } from '../files/consistency.ts';
import { createTestServices, type TestServices } from '../testing.ts';

/** Against a real 3-node ensemble, a real SQLite file and real files on disk. */
describe('scheduler over real disk, SQLite and ZooKeeper', () => {
  let t: TestServices;
  /** Disk, database and ZooKeeper agree, and the in-memory placement index says what the database says. */
  const check = async () => {
    const { db, index, config } = t.services;
    const fromDb = countFilesByNode(db);
    expect(index.counts(config.nodes)).toEqual(Object.fromEntries(config.nodes.map((n) => [n, fromDb[n] ?? 0])));
    expect(index.list().map((f) => `${f.uuid}@${f.node}`)).toEqual(listFilesForPlanning(db).map((f) => `${f.uuid}@${f.node}`));
    return findInconsistencies({ ...t.services, nodes: config.nodes });
  };

  beforeAll(async () => {
    // The seed's one-move-per-round mode, kept for demonstrations: these tests watch each move.
    t = await createTestServices({ scheduler: { threshold: 5, mode: 'one_per_tick' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stress 12 files on zk1, then balance move by move with disk, database and znodes agreeing after each', async () => {
    const { workload, scheduler, files, metadata } = t.services;
    const res = await workload.stress({ node: 'zk1', files: 12, sizeKb: 4, triggerScheduler: false });
    expect(res.created).toBe(12);
    expect(files.counts()).toEqual({ zk1: 12, zk2: 0, zk3: 0 });
    expect(await metadata.list()).toHaveLength(12);
    expect(await check()).toEqual([]);

    const plan = scheduler.diagnostics();
    expect(plan).toMatchObject({ sourceNode: 'zk1', targetNode: 'zk2', delta: 12, shouldMigrate: true, reason: 'ok' });

    let moves = 0;
    for (;;) {
      const r = await scheduler.run('manual');
      if (!r.executed) {
        expect(r.error).toBeNull();
        expect(r.after.reason).toBe('below_threshold');
        break;
      }
      moves++;
      expect(r.after.totalFiles).toBe(12);
      expect(await check()).toEqual([]);
      expect(moves).toBeLessThan(12);
    }
    const counts = files.counts();
    const values = Object.values(counts);
    expect(Math.max(...values) - Math.min(...values)).toBeLessThan(5);
    expect(moves).toBeGreaterThanOrEqual(4);

    // Every moved file carries its move in its history, in the database and in its znode.
    const moved = files.list({ node: 'zk2', limit: 50, offset: 0 }).items[0]!;
    const last = moved.history.at(-1)!;
    expect(last).toMatchObject({ action: 'migrate', from: 'zk1', to: 'zk2' });
    expect((await metadata.get(moved.uuid))?.history.at(-1)).toEqual(last);

    const ops = t.services.operations.list({ action: 'auto_migrate', limit: 50 });
    expect(ops.items).toHaveLength(moves);
    expect(ops.items[0]).toMatchObject({ status: 'success', beforeMetrics: { counts: expect.any(Object) } });
    // Each move went through the engine's journal, to the end of its state machine.
    const journal = t.services.engine.list({ limit: 50 });
    expect(journal).toHaveLength(moves);
    expect(journal.every((m) => m.status === 'completed' && m.phase === 'cleaned')).toBe(true);
    expect(journal.map((m) => m.uuid)).toContain(moved.uuid);
  });

  it('a failed move (file deleted behind our back) is a failed operation and leaves nothing half-moved', async () => {
    const { workload, scheduler, files } = t.services;
    await workload.stress({ node: 'zk3', files: 10, sizeKb: 1, triggerScheduler: false });
    const plan = scheduler.diagnostics();
    expect(plan.shouldMigrate).toBe(true);
    const victim = files.byId(plan.candidate!.uuid);
    expect(await t.storage.deleteFile(victim.node, victim.name)).toBe(true);
    const r = await scheduler.run('manual');
    expect(r.executed).toBe(false);
    expect(r.error).toMatch(/not|no such|missing/i);
    expect(files.byId(victim.uuid).node).toBe(plan.sourceNode);
    const failed = t.services.operations.list({ action: 'migration_failed', status: 'failed', limit: 5 });
    expect(failed.items[0]?.details).toMatchObject({ uuid: victim.uuid });
    expect(t.services.engine.list({ limit: 1 })[0]).toMatchObject({ uuid: victim.uuid, status: 'failed', phase: 'planned' });
    // The only difference is the file we deleted ourselves.
    expect((await check()).map((i) => i.kind)).toEqual(['missing_on_disk']);
  });

  it('drain keeps a node out of the targets and empties it', async () => {
    const { nodes, scheduler, files } = t.services;
    nodes.drain('zk2', 'disk replacement');
    const plan = scheduler.diagnostics();
    expect(plan.drainedNodes).toEqual(['zk2']);
    expect(plan.sourceNode).toBe('zk2');
    expect(plan.targetNode).not.toBe('zk2');
    const before = files.counts().zk2!;
    const r = await scheduler.run('manual');
    expect(r.executed).toBe(true);
    expect(files.counts().zk2).toBe(before - 1);
    nodes.undrain('zk2');
    expect(scheduler.diagnostics().drainedNodes).toEqual([]);
  });

  it('in whole_plan mode (the default) a round queues the whole plan, and the engine balances it', async () => {
    const { workload, scheduler, files, engine } = t.services;
    for (const f of files.list({ limit: 500, offset: 0 }).items) await files.delete(f.uuid);
    await workload.stress({ node: 'zk2', files: 30, sizeKb: 1, triggerScheduler: false });
    scheduler.setConfig({ mode: 'whole_plan' });
    engine.start();
    try {
      const plan = scheduler.dryRun();
      const r = await scheduler.run('manual');
      expect(r).toMatchObject({ executed: true, queued: plan.moves.length, error: null });
      expect(plan.moves.length).toBeGreaterThan(10);
      expect(await engine.drain(30_000)).toBe(true);
      expect(files.counts()).toEqual(Object.fromEntries(plan.nodes.map((n) => [n.node, n.countAfter])));
      expect(scheduler.dryRun().moves).toEqual([]); // nothing left to plan
      expect(await check()).toEqual([]);
    } finally {
      await engine.stop();
      scheduler.setConfig({ mode: 'one_per_tick' });
    }
  });

  it('nodes.list reports one leader, and a new one after the leader process is killed', async () => {
    const { nodes, cluster } = t.services;
    await cluster.refresh();
    const views = await nodes.list();
    const leaders = views.filter((v) => v.mode === 'leader');
    expect(leaders).toHaveLength(1);
    expect(views.filter((v) => v.mode === 'follower')).toHaveLength(2);
    expect(views.every((v) => v.up && (v.znodeCount ?? 0) > 0)).toBe(true);
    const old = leaders[0]!.node;

    await t.ensemble.killNode(old, 'SIGKILL');
    await t.ensemble.waitForQuorum(30_000);
    await cluster.refresh();
    const after = await nodes.list();
    const newLeader = after.find((v) => v.mode === 'leader');
    expect(newLeader?.node).toBeDefined();
    expect(newLeader?.node).not.toBe(old);
    expect(after.find((v) => v.node === old)?.up).toBe(false);
    await t.ensemble.startNode(old);
  });
});
