import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { countFilesByNode, getMigration, listFilesForPlanning, moveFileRecord, updateMigration, type MigrationRecord } from '@zkha/db';

import { findInconsistencies } from '../files/consistency.ts';
import { MigrationEngine } from './engine.ts';
import type { BatchPoint } from './reports.ts';
import { createTestServices, type TestServices } from '../testing.ts';

/** The migration engine against real storage agents, a real SQLite journal and real znodes. */
let t: TestServices;
const check = () => findInconsistencies({ ...t.services, nodes: t.services.config.nodes });
const dbCounts = () => {
  const c = countFilesByNode(t.services.db);
  return Object.fromEntries(t.services.config.nodes.map((n) => [n, c[n] ?? 0]));
};
/** Partial files in any agent's folder (the test looks into the folders; the control plane never does). */
async function tempFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const n of t.services.config.nodes)
    out.push(...(await readdir(t.agents.folderOf(n))).filter((f) => f.endsWith('.part') && !f.startsWith('.zkha-probe-')));
  return out;
}
/** A node's file on disk, for the tests' own checks of inodes. */
const diskPath = (location: string) => path.join(t.agents.folderOf(location.split('/')[0]!), location.split('/')[1]!);
const shaOn = async (location: string) => (await t.storage.stat(location.split('/')[0]!, location.split('/')[1]!))?.sha256 ?? null;

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
  it('a dry run shows the whole plan; running it balances 60 files below the threshold in 40 moves, all stores agreeing', async () => {
    const { scheduler, workload, engine } = t.services;
    await workload.stress({ node: 'zk1', files: 60, sizeKb: 1, triggerScheduler: false });
    const plan = scheduler.dryRun('count');
    // Threshold 2: the spread must end below 2 files, so 60 / 0 / 0 ends 20 / 20 / 20, in 40 moves.
    expect(plan.moves).toHaveLength(40);
    expect(plan).toMatchObject({ spreadBefore: 60, spreadAfter: 0, balancedBefore: false, balanced: true });
    expect(plan.nodes.find((n) => n.node === 'zk1')).toMatchObject({ countBefore: 60, countAfter: 20 });
    const expected = Object.fromEntries(plan.nodes.map((n) => [n.node, n.countAfter]));
    expect(dbCounts()).toEqual({ zk1: 60, zk2: 0, zk3: 0 }); // a dry run moves nothing

    // whole_plan is the scheduler's default mode: a round queues the whole plan.
    const run = await scheduler.run('manual');
    expect(run).toMatchObject({ mode: 'whole_plan', executed: true, queued: 40, done: 40, pending: 0, failed: 0 });
    expect(run.after).toMatchObject({ counts: expected, shouldMigrate: false, reason: 'below_threshold' });
    expect(await engine.drain(60_000)).toBe(true);
    expect(dbCounts()).toEqual(expected);
    expect(t.services.files.counts()).toEqual(expected);
    expect(await check()).toEqual([]);
    expect(await tempFiles()).toEqual([]);
    const done = engine.list({ status: 'completed', limit: 100 });
    expect(done).toHaveLength(40);
    expect(done.every((m) => m.phase === 'cleaned' && m.throughput !== null)).toBe(true);
    const moved = t.services.files.byId(done[0]!.uuid);
    expect(moved.history.at(-1)).toMatchObject({ action: 'migrate', from: 'zk1' });
  });

  it('the per-node bandwidth cap holds on real bytes: measured throughput within 10% of the cap', async () => {
    const { workload, engine } = t.services;
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
    console.log(
      `[figure] bandwidth cap ${cap} B/s: moved ${bytes} B in ${seconds.toFixed(2)} s = ${Math.round(rate)} B/s (${((rate / cap) * 100).toFixed(1)}% of the cap)`,
    );
    expect(rate).toBeLessThanOrEqual(cap * 1.1);
    expect(rate).toBeGreaterThanOrEqual(cap * 0.9);
    expect(await check()).toEqual([]);
  });
});

describe('impact control', () => {
  it('pause holds everything with a reason in words; resume lets it run', async () => {
    const { workload, engine } = t.services;
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
    const { workload, engine } = t.services;
    await workload.stress({ node: 'zk3', files: 12, sizeKb: 256, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 512 * 1024, maxPerNodeOut: 1 });
    engine.enqueue(movesOf('zk3', ['zk1', 'zk2'], 6));
    await new Promise((r) => setTimeout(r, 300));
    const p = engine.progress();
    // One slot for zk3: one batch, the three moves to one target; the three to the other wait.
    const running = p.tasks.filter((x) => x.status === 'running');
    expect(running).toHaveLength(3);
    expect(new Set(running.map((x) => x.target)).size).toBe(1);
    expect(p.waiting.some((w) => w.reason === 'cap_source' && /zk3/.test(w.message))).toBe(true);
    expect(engine.cancel()).toBeGreaterThan(0);
    expect(await engine.drain(10_000)).toBe(true);
  });

  it('cancelling a running copy leaves the file whole on its source, and no partial copy anywhere', async () => {
    const { workload, engine } = t.services;
    await workload.stress({ node: 'zk1', files: 4, sizeKb: 1024, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 256 * 1024 });
    const [task] = engine.enqueue(movesOf('zk1', ['zk2'], 1));
    // The batch answers at its end; its progress is read from the target agent while it runs.
    await expect.poll(() => engine.progress().tasks.find((x) => x.id === task!.id)?.bytesDone ?? 0, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(engine.progress().tasks.find((x) => x.id === task!.id)?.status).toBe('running');
    engine.cancel(task!.id);
    expect(await engine.drain(10_000)).toBe(true);
    expect(getMigration(t.services.db, task!.id)).toMatchObject({ status: 'cancelled', phase: 'planned' });
    expect(t.services.files.byId(task!.uuid).node).toBe('zk1');
    expect(await shaOn(task!.targetPath)).toBeNull();
    await expect.poll(tempFiles, { timeout: 5_000 }).toEqual([]);
    expect(await check()).toEqual([]);
  });
});

describe('adaptive mode', () => {
  it('cuts the caps when a load signal is high, raises them after calm samples, and records each change with its cause', async () => {
    const s = t.services;
    let sample = { cpuLoad: 0.2, eventLoopLagMs: 5, zkLatencyMs: 500 };
    const engine = new MigrationEngine(
      {
        db: s.db,
        storage: s.storage,
        metadata: s.metadata,
        index: s.index,
        operations: s.operations,
        events: s.events,
        clock: s.clock,
        offlineNodes: () => [],
        sampleLoad: () => sample,
        loadThresholds: { cpuLoad: 0.9, eventLoopLagMs: 100, zkLatencyMs: 50 },
      },
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
  it('before the commit point: the copy on the target is deleted and the move is queued again', async () => {
    const { workload, engine, db } = t.services;
    await workload.stress({ node: 'zk1', files: 3, sizeKb: 4, triggerScheduler: false });
    engine.pause();
    const [m] = engine.enqueue(movesOf('zk1', ['zk3'], 1));
    // As a crash mid-pull leaves it: journal says copying, the target already holds the verified copy.
    updateMigration(db, m!.id, { status: 'running', phase: 'copying' });
    await t.storage.pull('zk3', 'zk1', [{ name: m!.name, sha256: m!.sha256, sizeBytes: m!.bytes }], { bytesPerSec: null, link: false });
    expect(await shaOn(m!.targetPath)).toBe(m!.sha256);
    const report = await engine.recover();
    expect(report).toMatchObject({ rolledBack: 1, rolledForward: 0 });
    expect(getMigration(db, m!.id)).toMatchObject({ status: 'pending', phase: 'planned' });
    expect(await shaOn(m!.targetPath)).toBeNull();
    expect(await tempFiles()).toEqual([]);
    engine.resume();
    expect(await engine.drain(10_000)).toBe(true);
    expect(await check()).toEqual([]);
  });

  it('after the commit point: ZooKeeper is brought in line and the source removed', async () => {
    const { workload, engine, db } = t.services;
    await workload.stress({ node: 'zk2', files: 3, sizeKb: 4, triggerScheduler: false });
    engine.pause();
    const [m] = engine.enqueue(movesOf('zk2', ['zk3'], 1));
    // As a crash right after the commit transaction leaves it: copy in place, row moved, znode and source stale.
    await t.storage.pull('zk3', 'zk2', [{ name: m!.name, sha256: m!.sha256, sizeBytes: m!.bytes }], { bytesPerSec: null, link: false });
    moveFileRecord(db, m!.uuid, {
      node: m!.target,
      path: m!.targetPath,
      historyEntry: { action: 'migrate', from: m!.source, to: m!.target, at: new Date().toISOString() },
    });
    updateMigration(db, m!.id, { status: 'running', phase: 'committed' });
    expect((await check()).map((i) => i.kind).sort()).toEqual(['orphan_file', 'znode_differs']);
    const report = await engine.recover();
    expect(report).toMatchObject({ rolledForward: 1 });
    t.services.index.load((await import('@zkha/db')).listFilesForPlanning(db));
    expect(getMigration(db, m!.id)).toMatchObject({ status: 'completed', phase: 'cleaned' });
    expect(t.services.files.byId(m!.uuid).path).toBe(`${m!.target}/${m!.name}`);
    expect(await shaOn(m!.sourcePath)).toBeNull();
    expect(await check()).toEqual([]);
    engine.cancel();
    engine.resume();
  });
});

describe('batches (the agents share a filesystem here: the same-host fast path, no bandwidth cap)', () => {
  /** Every file's name exists on exactly one node folder. */
  async function namesOnce(): Promise<boolean> {
    const seen = new Map<string, number>();
    for (const n of t.services.config.nodes)
      for (const f of await t.services.storage.listNodeFiles(n)) seen.set(f.name, (seen.get(f.name) ?? 0) + 1);
    return [...seen.values()].every((c) => c === 1) && seen.size === t.services.files.list({ limit: 1, offset: 0 }).total;
  }

  /**
   * A second engine over the same database, agents and ensemble, that stops dead at `point` of its first batch:
   * its hook never returns, so nothing after that point happens, as with a SIGKILL there. Resolves with the
   * batch's tasks once the point is reached.
   */
  async function crashAt(point: BatchPoint, moves: ReturnType<typeof movesOf>): Promise<MigrationRecord[]> {
    const s = t.services;
    let reached!: (ids: readonly number[]) => void;
    const at = new Promise<readonly number[]>((resolve) => (reached = resolve));
    const doomed = new MigrationEngine(
      {
        db: s.db,
        storage: s.storage,
        metadata: s.metadata,
        index: s.index,
        operations: s.operations,
        events: s.events,
        clock: s.clock,
        offlineNodes: () => [],
        atBatchPoint: (p, ids) => {
          if (p !== point) return;
          reached(ids);
          return new Promise<void>(() => undefined);
        },
      },
      { caps: { bandwidthBytesPerSec: null, maxConcurrent: 4, maxPerNodeIn: 4, maxPerNodeOut: 4 } },
    );
    doomed.enqueue(moves);
    doomed.start();
    const ids = await at;
    return ids.map((id) => getMigration(s.db, id)!);
  }

  const inode = (location: string) => statSync(diskPath(location), { throwIfNoEntry: false })?.ino ?? null;

  it('balances through batches: one journal row per move, each cleaned, the bytes never copied (hard links)', async () => {
    const { workload, engine, db } = t.services;
    await workload.stress({ node: 'zk1', files: 150, sizeKb: 4, triggerScheduler: false });
    const before = new Map(t.services.files.list({ node: 'zk1', limit: 500, offset: 0 }).items.map((f) => [f.uuid, inode(f.path)]));
    engine.setCaps({ maxConcurrent: 2, maxPerNodeOut: 2, maxPerNodeIn: 2 });
    const moves = movesOf('zk1', ['zk2', 'zk3'], 100);
    engine.enqueue(moves);
    expect(await engine.drain(30_000)).toBe(true);
    expect(dbCounts()).toEqual({ zk1: 50, zk2: 50, zk3: 50 });
    const done = engine.list({ status: 'completed', limit: 200 }).filter((m) => moves.some((x) => x.uuid === m.uuid));
    expect(done).toHaveLength(100);
    expect(done.every((m) => m.phase === 'cleaned' && m.bytesDone === m.bytes && m.throughput !== null)).toBe(true);
    // A hard link keeps the inode: the moved file is the same file, not a copy.
    for (const m of done) expect(inode(t.services.files.byId(m.uuid).path)).toBe(before.get(m.uuid));
    expect((await t.services.metadata.get(done[0]!.uuid))?.node).toBe(done[0]!.target);
    expect(await namesOnce()).toBe(true);
    expect(await tempFiles()).toEqual([]);
    expect(await check()).toEqual([]);
    expect(getMigration(db, done[0]!.id)?.error).toBeNull();
  });

  // What each point leaves on disk, in the database and in ZooKeeper, and what recovery must make of it.
  const cases: {
    point: BatchPoint;
    phase: MigrationRecord['phase'];
    linked: boolean;
    rowAtTarget: boolean;
    znodeAtTarget: boolean;
    sourceGone: boolean;
    forward: boolean;
  }[] = [
    { point: 'copying', phase: 'copying', linked: false, rowAtTarget: false, znodeAtTarget: false, sourceGone: false, forward: false },
    { point: 'pulled', phase: 'copying', linked: true, rowAtTarget: false, znodeAtTarget: false, sourceGone: false, forward: false },
    { point: 'copied', phase: 'copied', linked: true, rowAtTarget: false, znodeAtTarget: false, sourceGone: false, forward: false },
    { point: 'committed', phase: 'committed', linked: true, rowAtTarget: true, znodeAtTarget: false, sourceGone: false, forward: true },
    { point: 'published', phase: 'committed', linked: true, rowAtTarget: true, znodeAtTarget: true, sourceGone: false, forward: true },
    { point: 'removed', phase: 'committed', linked: true, rowAtTarget: true, znodeAtTarget: true, sourceGone: true, forward: true },
  ];
  for (const c of cases) {
    it(`a batch stopped dead at "${c.point}" is ${c.forward ? 'finished' : 'undone and run again'} by recovery: each file on one node, disk = database = ZooKeeper`, async () => {
      const { workload, engine, db, metadata } = t.services;
      await workload.stress({ node: 'zk1', files: 8, sizeKb: 4, triggerScheduler: false });
      const moves = movesOf('zk1', ['zk3'], 5);
      const rows = await crashAt(c.point, moves);
      expect(rows).toHaveLength(5);

      // The state the crash leaves, as described for this point.
      for (const m of rows) {
        expect(m).toMatchObject({ status: 'running', phase: c.phase });
        expect(inode(m.targetPath) !== null).toBe(c.linked);
        if (c.linked && !c.sourceGone) expect(inode(m.targetPath)).toBe(inode(m.sourcePath));
        expect(inode(m.sourcePath) === null).toBe(c.sourceGone);
        expect(t.services.files.byId(m.uuid).node).toBe(c.rowAtTarget ? 'zk3' : 'zk1');
        expect((await metadata.get(m.uuid))?.node).toBe(c.znodeAtTarget ? 'zk3' : 'zk1');
      }

      // Restart: recovery by the server's engine.
      engine.pause();
      const report = await engine.recover();
      t.services.index.load(listFilesForPlanning(db));
      expect(report).toMatchObject(c.forward ? { rolledForward: 5, rolledBack: 0 } : { rolledBack: 5, rolledForward: 0, requeued: 5 });
      for (const m of rows) {
        expect(getMigration(db, m.id)).toMatchObject(
          c.forward ? { status: 'completed', phase: 'cleaned' } : { status: 'pending', phase: 'planned', bytesDone: 0 },
        );
        const file = t.services.files.byId(m.uuid);
        expect(file.node).toBe(c.forward ? 'zk3' : 'zk1');
        expect(statSync(diskPath(file.path)).nlink).toBe(1); // one name left: the other is gone
        expect(inode(c.forward ? m.sourcePath : m.targetPath)).toBeNull();
        expect(await shaOn(file.path)).toBe(m.sha256);
      }
      expect(await namesOnce()).toBe(true);
      expect(await tempFiles()).toEqual([]);
      expect(await check()).toEqual([]);

      // Whatever was undone runs again and completes.
      engine.resume();
      expect(await engine.drain(20_000)).toBe(true);
      for (const m of rows) expect(t.services.files.byId(m.uuid).node).toBe('zk3');
      expect(await namesOnce()).toBe(true);
      expect(await check()).toEqual([]);
    });
  }

  it('cancelled once pulled (before the commit point): the copy is deleted and the file stays whole on its source', async () => {
    const { workload, db } = t.services;
    await workload.stress({ node: 'zk2', files: 4, sizeKb: 4, triggerScheduler: false });
    const s = t.services;
    let release!: () => void;
    let reached!: (ids: readonly number[]) => void;
    const at = new Promise<readonly number[]>((resolve) => (reached = resolve));
    const engine = new MigrationEngine(
      {
        ...{
          db: s.db,
          storage: s.storage,
          metadata: s.metadata,
          index: s.index,
          operations: s.operations,
          events: s.events,
          clock: s.clock,
        },
        offlineNodes: () => [],
        atBatchPoint: (p, ids) => {
          if (p !== 'pulled') return;
          reached(ids);
          return new Promise<void>((resolve) => (release = resolve));
        },
      },
      { caps: { bandwidthBytesPerSec: null } },
    );
    engine.enqueue(movesOf('zk2', ['zk1'], 3));
    engine.start();
    const ids = await at;
    const victim = getMigration(db, ids[0]!)!;
    expect(inode(victim.targetPath)).toBe(inode(victim.sourcePath));
    engine.cancel(victim.id);
    release();
    expect(await engine.drain(10_000)).toBe(true);
    await engine.stop();
    expect(getMigration(db, victim.id)).toMatchObject({ status: 'cancelled', phase: 'planned' });
    expect(inode(victim.targetPath)).toBeNull();
    expect(s.files.byId(victim.uuid).node).toBe('zk2');
    for (const id of ids.slice(1)) expect(getMigration(db, id)).toMatchObject({ status: 'completed', phase: 'cleaned' });
    s.index.load(listFilesForPlanning(db));
    expect(await namesOnce()).toBe(true);
    expect(await check()).toEqual([]);
  });

  it('recovery never removes a name another file owns; the move then fails as a conflict instead of replacing it', async () => {
    const { workload, engine, db, files } = t.services;
    await workload.stress({ node: 'zk1', files: 2, sizeKb: 4, triggerScheduler: false });
    const [mv] = movesOf('zk1', ['zk2'], 1);
    // Another file with the same name on zk2: an upload, with its own row and bytes.
    const other = await files.upload(
      'zk2',
      mv!.name,
      (async function* () {
        yield Buffer.from("somebody else's bytes");
      })(),
      { maxBytes: 1024 },
    );
    engine.pause();
    const [m] = engine.enqueue([mv!]);
    updateMigration(db, m!.id, { status: 'running', phase: 'copying' }); // as a crash right after journaling leaves it
    const report = await engine.recover();
    expect(report).toMatchObject({ rolledBack: 1, requeued: 1 });
    expect(await shaOn(other.path)).toBe(other.sha256);
    engine.resume();
    expect(await engine.drain(10_000)).toBe(true);
    expect(getMigration(db, m!.id)).toMatchObject({ status: 'failed', phase: 'planned', error: expect.stringContaining('already exists') });
    expect(files.byId(mv!.uuid).node).toBe('zk1');
    expect(await shaOn(other.path)).toBe(other.sha256);
    expect(await check()).toEqual([]);
  });

  it('a journal behind the agents (only the target copy left, as a power cut can leave it) is finished, not undone', async () => {
    const { workload, engine, db } = t.services;
    await workload.stress({ node: 'zk3', files: 2, sizeKb: 4, triggerScheduler: false });
    engine.pause();
    const [m] = engine.enqueue(movesOf('zk3', ['zk1'], 1));
    updateMigration(db, m!.id, { status: 'running', phase: 'copied' });
    await t.storage.pull('zk1', 'zk3', [{ name: m!.name, sha256: m!.sha256, sizeBytes: m!.bytes }], { bytesPerSec: null, link: false });
    expect(await t.storage.deleteFile('zk3', m!.name)).toBe(true);
    const report = await engine.recover();
    t.services.index.load(listFilesForPlanning(db));
    expect(report).toMatchObject({ rolledForward: 1, rolledBack: 0 });
    expect(getMigration(db, m!.id)).toMatchObject({ status: 'completed', phase: 'cleaned' });
    expect(t.services.files.byId(m!.uuid)).toMatchObject({ node: 'zk1', path: m!.targetPath });
    expect(await check()).toEqual([]);
    engine.resume();
  });
});

describe('every executed move is an operation', () => {
  const opsSince = (action: string, id: number) =>
    t.services.operations
      .list({ action, limit: 500 })
      .items.filter((o) => o.id > id)
      .reverse();
  const lastId = () => t.services.operations.list({ limit: 1 }).items[0]?.id ?? 0;

  it('each batch of one move writes one operation of one move; the origin picks the action; a failed move writes migration_failed only', async () => {
    const { workload, engine, db } = t.services;
    await workload.stress({ node: 'zk1', files: 4, sizeKb: 64, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 4 * 1024 * 1024 }); // a cap: bytes on the wire, not links
    const since = lastId();
    const [a, b, c] = movesOf('zk1', ['zk2', 'zk3'], 3);
    const auto = engine.enqueue([a!, b!], { origin: 'auto' });
    expect(auto.map((m) => m.origin)).toEqual(['auto', 'auto']);
    expect(await engine.drain(10_000)).toBe(true);
    const autoOps = opsSince('auto_migrate', since);
    expect(autoOps.map((o) => [o.node, o.details.count, (o.details.moves as { uuid: string }[])[0]!.uuid])).toEqual(
      expect.arrayContaining([
        ['zk1', 1, a!.uuid],
        ['zk1', 1, b!.uuid],
      ]),
    );
    expect(autoOps).toHaveLength(2);

    // moveNow (the one-move scheduler round) goes through the same commit: one operation, with its origin.
    const done = await engine.moveNow(c!, { origin: 'auto' });
    expect(done).toMatchObject({ status: 'completed', origin: 'auto' });
    expect(opsSince('auto_migrate', since)).toHaveLength(3);
    expect(opsSince('migrate', since)).toEqual([]);

    // A move that fails writes migration_failed as before, and no move operation: another file already has
    // the name on the target, and a move never replaces a file.
    const [d] = movesOf('zk1', ['zk3'], 1);
    await t.services.files.upload(
      'zk3',
      d!.name,
      (async function* () {
        yield Buffer.from('another file');
      })(),
      { maxBytes: 1024 },
    );
    const [m] = engine.enqueue([d!]);
    expect(await engine.drain(10_000)).toBe(true);
    expect(getMigration(db, m!.id)).toMatchObject({ status: 'failed' });
    expect(opsSince('migration_failed', since).map((o) => o.details.id)).toEqual([m!.id]);
    expect(opsSince('migrate', since)).toEqual([]);
    expect(t.services.files.byId(d!.uuid).node).toBe('zk1');
    expect(await check()).toEqual([]);
  });
});
