import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { OperationRecord, SchedulerPlan } from '@zkha/core';
import { createTestServices, type TestServices } from '@zkha/services/testing';

import { createContextInner } from '../context.ts';
import { createCaller } from '../root.ts';
import { errorOf } from './test-helpers.ts';

/** Router tests through createCaller over a real context: real ensemble, SQLite file and upload folder. */
let t: TestServices;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  // The scheduler tests below watch single moves: the one_per_tick mode (whole_plan, the default, has its own test).
  t = await createTestServices({ scheduler: { threshold: 5, mode: 'one_per_tick' } });
  caller = createCaller(createContextInner({ services: t.services }));
});
afterAll(async () => {
  await t?.close();
});

/** A caller whose subscriptions end when `signal` aborts. */
function subscriber(signal: AbortSignal) {
  return createCaller(createContextInner({ services: t.services }), { signal });
}

/** The next tracked event as the client sees it ({ id, data }), whether the caller hands back the envelope or not. */
async function nextTracked<T>(it: AsyncIterator<unknown>): Promise<{ id: string; data: T }> {
  const r = await it.next();
  if (r.done) throw new Error('subscription ended');
  const v = r.value;
  if (Array.isArray(v)) return { id: String(v[0]), data: v[1] as T };
  return v as { id: string; data: T };
}

describe('bad input is refused with a clear error and writes nothing', () => {
  it.each([
    [{ node: 'zk1', files: 0, sizeKb: 4 }, 'BAD_REQUEST', /files: must be at least 1/],
    [{ node: 'zk1', files: 1_000_000, sizeKb: 4 }, 'BAD_REQUEST', /files: must be at most 2000/],
    [{ node: 'zk1', files: -3, sizeKb: 4 }, 'BAD_REQUEST', /files/],
    [{ node: 'zk1', files: 2, sizeKb: 0 }, 'BAD_REQUEST', /sizeKb/],
    [{ node: '../etc', files: 2, sizeKb: 4 }, 'BAD_REQUEST', /node/],
    [{ node: 'zk9', files: 2, sizeKb: 4 }, 'NOT_FOUND', /unknown node "zk9"/],
    [{ node: 'zk1', files: 2000, sizeKb: 16384 }, 'BAD_REQUEST', /MiB per request/],
  ] as const)('stress %j → %s', async (input, code, message) => {
    const err = await errorOf(caller.workload.stress(input));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('nothing was written by the refused requests', async () => {
    expect((await caller.files.list({})).total).toBe(0);
    expect((await caller.workload.tasks({})).items).toHaveLength(0);
    expect(await t.services.metadata.list()).toHaveLength(0);
  });

  it('unknown nodes and files answer NOT_FOUND', async () => {
    expect((await errorOf(caller.nodes.drain({ node: 'zk7' }))).code).toBe('NOT_FOUND');
    expect((await errorOf(caller.files.byId({ uuid: '00000000-0000-4000-8000-000000000000' }))).code).toBe('NOT_FOUND');
    expect((await errorOf(caller.files.list({ node: 'nope' }))).code).toBe('NOT_FOUND');
  });

  it('scheduler config rejects nonsense and keeps the old values', async () => {
    const before = await caller.scheduler.config();
    expect((await errorOf(caller.scheduler.setConfig({ threshold: 0 }))).code).toBe('BAD_REQUEST');
    expect((await errorOf(caller.scheduler.setConfig({ intervalSec: -1 }))).code).toBe('BAD_REQUEST');
    expect(await caller.scheduler.config()).toEqual(before);
  });
});

describe('the scheduler through the API', () => {
  it('stress with triggerScheduler moves one file and reports before and after', async () => {
    const res = await caller.workload.stress({ node: 'zk1', files: 12, sizeKb: 2, triggerScheduler: true });
    expect(res.created).toBe(12);
    expect(res.scheduler?.executed).toBe(true);
    expect(res.scheduler?.before.counts).toEqual({ zk1: 12, zk2: 0, zk3: 0 });
    expect(res.scheduler?.after.counts).toEqual({ zk1: 11, zk2: 1, zk3: 0 });
    const tasks = await caller.workload.tasks({});
    expect(tasks.items[0]).toMatchObject({ status: 'done' });
  });

  it('diagnostics explain the next move; run executes it', async () => {
    const plan = await caller.scheduler.diagnostics();
    expect(plan).toMatchObject({ sourceNode: 'zk1', targetNode: 'zk3', delta: 11, shouldMigrate: true, threshold: 5, totalFiles: 12 });
    const run = await caller.scheduler.run();
    expect(run.executed).toBe(true);
    expect(run.after.counts).toEqual({ zk1: 10, zk2: 1, zk3: 1 });
  });

  it('raising the threshold stops migration with a reason in words', async () => {
    await caller.scheduler.setConfig({ threshold: 50 });
    expect(await caller.scheduler.diagnostics()).toMatchObject({ threshold: 50, shouldMigrate: false, moves: 0 }); // a cached plan never outlives a setting
    const run = await caller.scheduler.run();
    expect(run.executed).toBe(false);
    expect(run.after.reason).toBe('below_threshold');
    expect(run.after.message).toBe('balanced: spread 9 files (zk1 10 files, zk2 1 file) is below the threshold 50 files');
    expect(run.after.nodes.map((n) => [n.node, n.role, n.code])).toEqual([
      ['zk1', 'neither', 'within_threshold'],
      ['zk2', 'neither', 'within_threshold'],
      ['zk3', 'neither', 'within_threshold'],
    ]);
    await caller.scheduler.setConfig({ threshold: 5 });
  });

  it('in whole_plan mode (the default) run queues the whole plan on the migration engine', async () => {
    await caller.scheduler.setConfig({ mode: 'whole_plan' });
    t.services.engine.start();
    try {
      const plan = await caller.migrations.plan({ strategy: 'count' });
      const run = await caller.scheduler.run();
      expect(run).toMatchObject({ executed: true, queued: plan.moves.length, error: null });
      expect(await t.services.engine.drain(20_000)).toBe(true);
      expect((await caller.scheduler.diagnostics()).counts).toEqual(Object.fromEntries(plan.nodes.map((n) => [n.node, n.countAfter])));
    } finally {
      await t.services.engine.stop();
      await caller.scheduler.setConfig({ mode: 'one_per_tick' });
    }
  });

  it('drain and undrain show in nodes.list and in the plan', async () => {
    await caller.nodes.drain({ node: 'zk3', reason: 'kernel upgrade' });
    const list = await caller.nodes.list();
    expect(list.find((n) => n.node === 'zk3')).toMatchObject({ drained: true, drainReason: 'kernel upgrade' });
    const plan = await caller.scheduler.diagnostics();
    expect(plan.drainedNodes).toEqual(['zk3']);
    expect(plan.targetNode).not.toBe('zk3');
    await caller.nodes.undrain({ node: 'zk3' });
    expect((await caller.nodes.list()).find((n) => n.node === 'zk3')?.drained).toBe(false);
  });

  it('undraining a node that is not drained writes nothing', async () => {
    const before = (await caller.logs.operations({ action: 'undrain', limit: 50 })).items.length;
    const state = await caller.nodes.undrain({ node: 'zk1' });
    expect(state).toMatchObject({ node: 'zk1', drained: false });
    expect((await caller.logs.operations({ action: 'undrain', limit: 50 })).items).toHaveLength(before);
  });

  it('bulkGenerate with pinned placement needs a node, and auto placement fills the emptiest nodes', async () => {
    expect((await errorOf(caller.files.bulkGenerate({ count: 2, sizeKb: 1, placement: 'pinned' }))).message).toMatch(/needs a node/);
    const before = (await caller.scheduler.diagnostics()).counts;
    const res = await caller.files.bulkGenerate({ count: 3, sizeKb: 1, placement: 'auto' });
    expect(res.created).toBe(3);
    const after = (await caller.scheduler.diagnostics()).counts;
    expect(after.zk1).toBe(before.zk1); // the fullest node gets none
  });
});

describe('logs', () => {
  it('operations filter by action and node, newest first, with a cursor', async () => {
    const page = await caller.logs.operations({ action: 'auto_migrate', limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]?.action).toBe('auto_migrate');
    const next = await caller.logs.operations({ action: 'auto_migrate', limit: 1, cursor: page.items[0]!.id });
    expect(next.items[0]!.id).toBeLessThan(page.items[0]!.id);
    const drains = await caller.logs.operations({ node: 'zk3', action: 'drain', limit: 10 });
    expect(drains.items.map((o) => o.details)).toContainEqual({ reason: 'kernel upgrade' });
  });

  it('accepts the paging fields TanStack infinite queries send', async () => {
    const page = await caller.logs.operations({ limit: 2, cursor: null, direction: 'forward' });
    expect(page.items).toHaveLength(2);
  });

  it('onOperation streams new operations and backfills from lastEventId', async () => {
    const ac = new AbortController();
    const sub = await subscriber(ac.signal).logs.onOperation(undefined);
    const it = sub[Symbol.asyncIterator]();
    const first = nextTracked<OperationRecord>(it);
    await caller.nodes.drain({ node: 'zk2', reason: 'live' });
    const { id, data: op } = await first;
    expect(op).toMatchObject({ action: 'drain', node: 'zk2' });
    ac.abort();

    // Missed while disconnected: the undrain. A client resuming from `id` gets it first.
    await caller.nodes.undrain({ node: 'zk2' });
    const ac2 = new AbortController();
    const resumed = await subscriber(ac2.signal).logs.onOperation({ lastEventId: id });
    const r = await nextTracked<OperationRecord>(resumed[Symbol.asyncIterator]());
    expect(r.data).toMatchObject({ action: 'undrain', node: 'zk2' });
    expect(Number(r.id)).toBeGreaterThan(Number(id));
    ac2.abort();
  });

  it('onPlan yields the current plan at once', async () => {
    const ac = new AbortController();
    const sub = await subscriber(ac.signal).scheduler.onPlan();
    const r = await nextTracked<SchedulerPlan>(sub[Symbol.asyncIterator]());
    expect(r.data.totalFiles).toBe(15);
    ac.abort();
  });
});
