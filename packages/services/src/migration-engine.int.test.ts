import { copyFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { countFilesByNode, getMigration, moveFileRecord, updateMigration } from '@zkha/db';

import { findInconsistencies } from './consistency.ts';
import { MigrationEngine } from './migration-engine.ts';
import { createTestServices, type TestServices } from './testing.ts';

/** The migration engine against real files, a real SQLite journal and real znodes. */
let t: TestServices;
const check = () => findInconsistencies({ ...t.services, nodes: t.services.config.nodes });
const dbCounts = () => {
  const c = countFilesByNode(t.services.db);
  return Object.fromEntries(t.services.config.nodes.map((n) => [n, c[n] ?? 0]));
};
async function tempFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const n of t.services.config.nodes) out.push(...(await readdir(t.services.storage.nodeDir(n))).filter((f) => f.startsWith('.')));
  return out;
}

/** Moves for the newest `n` files of `from`, spread over `to` in turn: tests pick their moves, not a strategy. */
function movesOf(from: string, to: string[], n: number) {
  return t.services.files
    .list({ node: from, limit: 500, offset: 0 })
    .items.slice(0, n)
    .map((f, i) => ({ uuid: f.uuid, name: f.name, from, to: to[i % to.length]!, sizeBytes: f.sizeBytes, reason: 'test' }));
}

beforeAll(async () => {
  t = await createTestServices({ scheduler: { threshold: 2 } });
  t.services.engine.start();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  t.services.engine.setCaps({ bandwidthBytesPerSec: null, maxConcurrent: 4, maxPerNodeIn: 2, maxPerNodeOut: 2 });
  t.services.engine.resume();
  // Start each test with an empty queue and no files: cancel what is open, then delete every file.
  t.services.engine.cancel();
  await t.services.engine.drain(10_000);
  for (const f of t.services.files.list({ limit: 500, offset: 0 }).items) await t.services.files.delete(f.uuid);
});

describe('whole-plan balancing through the queue', () => {
  it('a dry run shows the whole plan; running it balances 60 files within the threshold in 38 moves, all stores agreeing', async () => {
    const { scheduler, workload, engine } = t.services;
    await workload.stress({ node: 'zk1', files: 60, sizeKb: 1, triggerScheduler: false });
    const plan = scheduler.dryRun('count');
    // Threshold 2: each node may end within 2 files of its share of 20, so zk1 keeps 22 and 38 files move.
    expect(plan.moves).toHaveLength(38);
    expect(plan.scoreAfter).toBeLessThan(plan.scoreBefore);
    expect(plan.nodes.find((n) => n.node === 'zk1')).toMatchObject({ countBefore: 60, countAfter: 22 });
    const expected = Object.fromEntries(plan.nodes.map((n) => [n.node, n.countAfter]));
    expect(dbCounts()).toEqual({ zk1: 60, zk2: 0, zk3: 0 }); // a dry run moves nothing

    scheduler.setConfig({ mode: 'whole_plan' });
    try {
      const run = await scheduler.run('manual');
      expect(run).toMatchObject({ executed: true, queued: 38 });
      expect(await engine.drain(60_000)).toBe(true);
    } finally {
      scheduler.setConfig({ mode: 'one_per_tick' });
    }
    expect(dbCounts()).toEqual(expected);
    expect(t.services.files.counts()).toEqual(expected);
    expect(await check()).toEqual([]);
    expect(await tempFiles()).toEqual([]);
    const done = engine.list({ status: 'completed', limit: 100 });
    expect(done).toHaveLength(38);
    expect(done.every((m) => m.phase === 'cleaned' && m.throughput !== null)).toBe(true);
    const moved = t.services.files.byId(done[0]!.uuid);
    expect(moved.history.at(-1)).toMatchObject({ action: 'migrate', from: 'zk1' });
  });

  it('the per-node bandwidth cap holds on real bytes: measured throughput within 10% of the cap', async () => {
    const { workload, scheduler, engine } = t.services;
    const cap = 2 * 1024 * 1024;
    await workload.stress({ node: 'zk1', files: 3, sizeKb: 2048, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: cap });
    // Both copies leave zk1, so zk1's bucket carries all 6 MiB.
    const moves = movesOf('zk1', ['zk2', 'zk3'], 3);
    const bytes = moves.reduce((a, m) => a + m.sizeBytes, 0);
    const started = performance.now();
    engine.enqueue(moves);
    expect(await engine.drain(30_000)).toBe(true);
    const seconds = (performance.now() - started) / 1000;
    const rate = bytes / seconds;
    console.log(`[figure] bandwidth cap ${cap} B/s: moved ${bytes} B in ${seconds.toFixed(2)} s = ${Math.round(rate)} B/s (${((rate / cap) * 100).toFixed(1)}% of the cap)`);
    expect(rate).toBeLessThanOrEqual(cap * 1.1);
    expect(rate).toBeGreaterThanOrEqual(cap * 0.9);
    expect(await check()).toEqual([]);
  });
});

describe('impact control', () => {
  it('pause holds everything with a reason in words; resume lets it run', async () => {
    const { workload, scheduler, engine } = t.services;
    await workload.stress({ node: 'zk2', files: 9, sizeKb: 1, triggerScheduler: false });
    engine.pause();
    engine.enqueue(movesOf('zk2', ['zk1', 'zk3'], 6));
    await new Promise((r) => setTimeout(r, 300));
    const p = engine.progress();
    expect(p.paused).toBe(true);
    expect(p.totals.pending).toBe(6);
    expect(p.waiting[0]).toMatchObject({ reason: 'paused', message: expect.stringContaining('paused') });
    expect(dbCounts().zk2).toBe(9);
    engine.resume();
    expect(await engine.drain(30_000)).toBe(true);
    expect(dbCounts()).toEqual({ zk1: 3, zk2: 3, zk3: 3 });
    expect(await check()).toEqual([]);
  });

  it('the per-node cap says why the rest waits', async () => {
    const { workload, scheduler, engine } = t.services;
    await workload.stress({ node: 'zk3', files: 12, sizeKb: 256, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 512 * 1024, maxPerNodeOut: 1 });
    engine.enqueue(movesOf('zk3', ['zk1', 'zk2'], 6));
    await new Promise((r) => setTimeout(r, 300));
    const p = engine.progress();
    expect(p.totals.running).toBe(1);
    expect(p.waiting.some((w) => w.reason === 'cap_source' && /zk3/.test(w.message))).toBe(true);
    expect(engine.cancel()).toBeGreaterThan(0);
    expect(await engine.drain(10_000)).toBe(true);
  });

  it('cancelling a running copy leaves the file whole on its source, and no partial copy anywhere', async () => {
    const { workload, scheduler, engine } = t.services;
    await workload.stress({ node: 'zk1', files: 4, sizeKb: 1024, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 256 * 1024 });
    const [task] = engine.enqueue(movesOf('zk1', ['zk2'], 1));
    await new Promise((r) => setTimeout(r, 500));
    expect(engine.progress().tasks.find((x) => x.id === task!.id)?.bytesDone).toBeGreaterThan(0);
    engine.cancel(task!.id);
    expect(await engine.drain(10_000)).toBe(true);
    expect(getMigration(t.services.db, task!.id)).toMatchObject({ status: 'cancelled', phase: 'planned' });
    expect(t.services.files.byId(task!.uuid).node).toBe('zk1');
    expect(await tempFiles()).toEqual([]);
    expect(await check()).toEqual([]);
  });
});

describe('adaptive mode', () => {
  it('cuts the caps when a load signal is high, raises them after calm samples, and records each change with its cause', async () => {
    const s = t.services;
    let sample = { cpuLoad: 0.2, eventLoopLagMs: 5, zkLatencyMs: 500 };
    const engine = new MigrationEngine(
      { db: s.db, storage: s.storage, metadata: s.metadata, index: s.index, operations: s.operations, events: s.events, clock: s.clock, offlineNodes: () => [], sampleLoad: () => sample, loadThresholds: { cpuLoad: 0.9, eventLoopLagMs: 100, zkLatencyMs: 50 } },
      { caps: { maxConcurrent: 8, maxPerNodeOut: 4, maxPerNodeIn: 4, bandwidthBytesPerSec: 8 * 1024 * 1024 } },
    );
    engine.setAdaptive(true, { intervalMs: 3_600_000 });
    engine.adaptiveStep();
    expect(engine.getCaps()).toMatchObject({ maxConcurrent: 4, maxPerNodeOut: 2, maxPerNodeIn: 2, bandwidthBytesPerSec: 4 * 1024 * 1024 });
    const cut = s.operations.list({ action: 'migration_caps', limit: 1 }).items[0]!;
    expect(String(cut.details.cause)).toMatch(/adaptive: .*ZooKeeper latency 500 ms/);
    sample = { cpuLoad: 0.2, eventLoopLagMs: 5, zkLatencyMs: 2 };
    for (let i = 0; i < 3; i++) engine.adaptiveStep();
    expect(engine.getCaps().maxConcurrent).toBe(5);
    engine.setAdaptive(false);
    await engine.stop();
  });
});

describe('crash recovery from the journal', () => {
  it('before the commit point: partial copies are removed and the move is queued again', async () => {
    const { workload, scheduler, engine, db } = t.services;
    await workload.stress({ node: 'zk1', files: 3, sizeKb: 4, triggerScheduler: false });
    engine.pause();
    const [m] = engine.enqueue(movesOf('zk1', ['zk3'], 1));
    // As a crash mid-copy leaves it: journal says copying, a partial temp file sits in the target folder.
    updateMigration(db, m!.id, { status: 'running', phase: 'copying' });
    await writeFile(m!.tempPath, 'partial');
    const report = await engine.recover();
    expect(report).toMatchObject({ rolledBack: 1, rolledForward: 0 });
    expect(getMigration(db, m!.id)).toMatchObject({ status: 'pending', phase: 'planned' });
    expect(await tempFiles()).toEqual([]);
    engine.resume();
    expect(await engine.drain(10_000)).toBe(true);
    expect(await check()).toEqual([]);
  });

  it('after the commit point: ZooKeeper is brought in line and the source removed', async () => {
    const { workload, scheduler, engine, db } = t.services;
    await workload.stress({ node: 'zk2', files: 3, sizeKb: 4, triggerScheduler: false });
    engine.pause();
    const [m] = engine.enqueue(movesOf('zk2', ['zk3'], 1));
    // As a crash right after the commit transaction leaves it: copy in place, row moved, znode and source stale.
    await copyFile(m!.sourcePath, m!.targetPath);
    moveFileRecord(db, m!.uuid, { node: m!.target, path: m!.targetPath, historyEntry: { action: 'migrate', from: m!.source, to: m!.target, at: new Date().toISOString() } });
    updateMigration(db, m!.id, { status: 'running', phase: 'committed' });
    expect((await check()).map((i) => i.kind).sort()).toEqual(['orphan_file', 'znode_differs']);
    const report = await engine.recover();
    expect(report).toMatchObject({ rolledForward: 1 });
    t.services.index.load((await import('@zkha/db')).listFilesForPlanning(db));
    expect(getMigration(db, m!.id)).toMatchObject({ status: 'completed', phase: 'cleaned' });
    expect(path.dirname(t.services.files.byId(m!.uuid).path)).toBe(t.services.storage.nodeDir(m!.target));
    expect(await check()).toEqual([]);
    engine.cancel();
    engine.resume();
  });
});
