import { stat } from 'node:fs/promises';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { countFilesByNode, listOperations } from '@zkha/db';
import type { LocalEnsemble } from '@zkha/zk-local';
import { startTestEnsemble } from '@zkha/zk-local/testing';

import { findInconsistencies } from '../files/consistency.ts';
import { ZK_FILES_ROOT } from '../files/file-metadata.ts';
import { createTestServices, type TestServices } from '../testing.ts';

/** Decommission, scale-up and undo against a real ensemble, real files and a real SQLite journal. */
let ensemble: LocalEnsemble;
let t: TestServices | null = null;

beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
});
afterEach(async () => {
  await t?.close();
  t = null;
});
afterAll(async () => {
  await ensemble?.stop();
});

async function setup(files: Record<string, number>): Promise<TestServices> {
  // Liveness watched, as on a server: a node added while running turns active once its agent is alive.
  t = await createTestServices({
    ensemble,
    scheduler: { threshold: 2, mode: 'whole_plan' },
    services: { liveness: { reconcileIntervalMs: 60_000 } },
  });
  await t.services.liveness!.start();
  // The ensemble is shared by the tests, each with a fresh database: start from no file znodes.
  await t.services.session.client.removeRecursive(ZK_FILES_ROOT);
  await t.services.metadata.init();
  t.services.engine.start();
  for (const [node, n] of Object.entries(files))
    if (n > 0) await t.services.workload.stress({ node, files: n, sizeKb: 2, triggerScheduler: false });
  return t;
}

/** Runs the lifecycle loop until `done` holds (the loop's interval is not started in tests: each pass is explicit). */
async function until(s: TestServices, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`timed out; lifecycle: ${JSON.stringify(s.services.storageNodes.list().map((n) => [n.node, n.lifecycle, n.files]))}`);
    s.services.storageNodes.tick();
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lifecycle = (s: TestServices, node: string) => s.services.storageNodes.list().find((n) => n.node === node)?.lifecycle;
const dbCounts = (s: TestServices) => countFilesByNode(s.services.db);
const consistent = async (s: TestServices) =>
  findInconsistencies({ ...s.services, nodes: s.services.storageNodes.records().map((r) => r.node) });

describe('decommission', () => {
  it('drains every file off the node under the caps, then marks it removed and out of placement', async () => {
    const s = await setup({ zk1: 10, zk2: 10, zk3: 24 });
    const view = s.services.storageNodes.decommission('zk3', 'disk replacement');
    expect(view).toMatchObject({ node: 'zk3', lifecycle: 'leaving', files: 24 });
    expect(view.decommission).toMatchObject({ filesAtStart: 24, filesLeft: 24 });
    expect(s.services.nodes.drainedSet().has('zk3')).toBe(true);
    // While leaving, drain flags belong to the decommission.
    expect(() => s.services.nodes.undrain('zk3')).toThrow(/being decommissioned/);
    expect(s.services.engine.openMigrations().filter((m) => m.source === 'zk3')).toHaveLength(24);
    expect(s.services.engine.openMigrations().every((m) => m.target !== 'zk3')).toBe(true);

    await until(s, () => lifecycle(s, 'zk3') === 'removed');
    expect(dbCounts(s).zk3 ?? 0).toBe(0);
    expect((dbCounts(s).zk1 ?? 0) + (dbCounts(s).zk2 ?? 0)).toBe(44);
    expect(s.services.config.nodes).toEqual(['zk1', 'zk2']);
    expect(await consistent(s)).toEqual([]);
    // Out of placement: new files go elsewhere, and pinning to it is refused.
    const created = await s.services.files.generate({ count: 6, sizeBytes: 1024, node: null, action: 'uploaded' });
    expect(created.every((f) => f.node !== 'zk3')).toBe(true);
    await expect(
      Promise.resolve().then(() => s.services.workload.stress({ node: 'zk3', files: 1, sizeKb: 1, triggerScheduler: false })),
    ).rejects.toThrow(/unknown node/);
    // The ZooKeeper server behind it is untouched: its card and node control remain.
    expect((await s.services.nodes.list()).find((n) => n.node === 'zk3')).toMatchObject({ lifecycle: 'removed' });

    const ops = listOperations(s.services.db, { node: 'zk3', limit: 20 }).items.map((o) => o.action);
    expect(ops).toEqual(expect.arrayContaining(['decommission_start', 'decommission_complete']));
    const done = listOperations(s.services.db, { action: 'decommission_complete', limit: 1 }).items[0]!;
    expect(done.details).toMatchObject({ filesMoved: 24 });
  });

  it('can be cancelled mid-way: open moves are cancelled, each file whole on exactly one node, the node active again', async () => {
    const s = await setup({ zk1: 4, zk2: 4, zk3: 20 });
    // 2 KiB files at 2 KiB/s: the drain takes long enough to cancel in the middle.
    s.services.engine.setCaps({ bandwidthBytesPerSec: 2048, maxConcurrent: 1 });
    s.services.storageNodes.decommission('zk3');
    await until(s, () => (dbCounts(s).zk3 ?? 0) <= 19, 20_000);
    const view = s.services.storageNodes.cancelDecommission('zk3');
    expect(view.lifecycle).toBe('active');
    expect(view.decommission).toBeNull();
    await s.services.engine.drain(10_000);
    expect(s.services.engine.openMigrations()).toHaveLength(0);
    expect(s.services.nodes.drainedSet().has('zk3')).toBe(false);
    const counts = dbCounts(s);
    expect((counts.zk1 ?? 0) + (counts.zk2 ?? 0) + (counts.zk3 ?? 0)).toBe(28);
    expect(counts.zk3).toBeGreaterThan(0);
    expect(await consistent(s)).toEqual([]);
    expect(listOperations(s.services.db, { action: 'decommission_cancel', limit: 1 }).items[0]?.details).toMatchObject({
      cancelledMoves: expect.any(Number),
    });
  });

  it('refuses what cannot be done, with a reason', async () => {
    const s = await setup({});
    expect(() => s.services.storageNodes.decommission('zk9')).toThrow(/unknown storage node "zk9"/);
    expect(() => s.services.storageNodes.cancelDecommission('zk1')).toThrow(/not leaving/);
    expect(() => s.services.storageNodes.reactivate('zk1')).toThrow(/only a removed node/);
    s.services.storageNodes.decommission('zk1');
    expect(() => s.services.storageNodes.decommission('zk1')).toThrow(/only an active node/);
    s.services.storageNodes.decommission('zk2');
    expect(() => s.services.storageNodes.decommission('zk3')).toThrow(/last active storage node/);
  });
});

describe('scale-up and undo', () => {
  it('adds a storage node: its agent started, joining → active, then the plan rebalances toward it', async () => {
    const s = await setup({ zk1: 30 });
    const view = await s.services.storageNodes.add({ node: 'store4', capacityBytes: 64 * 1024 * 1024 });
    expect(['joining', 'active']).toContain(view.lifecycle);
    await until(s, () => lifecycle(s, 'store4') === 'active');
    expect(s.services.config.nodes).toContain('store4');
    await s.services.engine.drain(20_000);
    expect(s.agents.has('store4')).toBe(true);
    expect((await stat(s.agents.folderOf('store4'))).isDirectory()).toBe(true);
    const counts = dbCounts(s);
    expect(counts.store4).toBeGreaterThanOrEqual(6);
    expect(
      Math.max(...['zk1', 'zk2', 'zk3', 'store4'].map((n) => counts[n] ?? 0)) -
        Math.min(...['zk1', 'zk2', 'zk3', 'store4'].map((n) => counts[n] ?? 0)),
    ).toBeLessThanOrEqual(4);
    expect(await consistent(s)).toEqual([]);
    expect(listOperations(s.services.db, { node: 'store4', limit: 10 }).items.map((o) => o.action)).toEqual(
      expect.arrayContaining(['node_add', 'node_active', 'node_rebalance']),
    );

    await expect(s.services.storageNodes.add({ node: 'store4' })).rejects.toThrow(/already exists \(active\)/);
    await expect(s.services.storageNodes.add({ node: '../etc' })).rejects.toThrow(/invalid node name/);
  });

  it('a removed node can be reactivated (undo) and gets files again', async () => {
    const s = await setup({ zk1: 6, zk2: 6, zk3: 6 });
    s.services.storageNodes.decommission('zk3');
    await until(s, () => lifecycle(s, 'zk3') === 'removed');
    await expect(s.services.storageNodes.add({ node: 'zk3' })).rejects.toThrow(/reactivate it instead/);
    const back = s.services.storageNodes.reactivate('zk3');
    expect(back.lifecycle).toBe('active');
    await s.services.engine.drain(20_000);
    expect(dbCounts(s).zk3).toBeGreaterThanOrEqual(4);
    expect(s.services.config.nodes).toContain('zk3');
    expect(await consistent(s)).toEqual([]);
  });
});
