/**
 * An operator's own moves and the queue's figures through createCaller over real services: a real 3-node
 * ensemble, SQLite file and upload folder. Every refusal is asserted by its code; every success by where the
 * file really ends up and by the operations the moves wrote.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { isAppError, type OperationRecord } from '@zkha/core';
import { createTestServices, type TestServices } from '@zkha/services/testing';

import { createContextInner } from '../context.ts';
import { createCaller } from '../root.ts';
import { errorOf } from './test-helpers.ts';

let t: TestServices;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  t = await createTestServices({ scheduler: { threshold: 5, mode: 'whole_plan' } });
  t.services.engine.start();
  caller = createCaller(createContextInner({ services: t.services }));
});
afterAll(async () => {
  await t?.close();
});
afterEach(async () => {
  // Each test leaves an empty, running queue with the default caps behind it.
  await caller.migrations.resume({});
  await caller.migrations.cancel({});
  expect(await t.services.engine.drain(20_000)).toBe(true);
  await caller.migrations.setCaps({ maxConcurrent: 4, maxPerNodeIn: 2, maxPerNodeOut: 2, bandwidthBytesPerSec: null });
  await caller.migrations.setPolicy({ policy: 'priority' });
});

/** The newest files on a node (at most 500). */
async function filesOn(node: string) {
  return (await caller.files.list({ node, limit: 500 })).items;
}

/** The domain code behind a refused call. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; appCode: string | null; message: string }> {
  const err = await errorOf(p);
  return { code: err.code, appCode: isAppError(err.cause) ? err.cause.code : null, message: err.message };
}

/** Operations of one action newer than `afterId`, oldest first. */
async function operationsSince(action: string, afterId: number): Promise<OperationRecord[]> {
  const page = await caller.logs.operations({ action, limit: 500 });
  return page.items.filter((o) => o.id > afterId).reverse();
}

async function lastOperationId(): Promise<number> {
  return (await caller.logs.operations({ limit: 1 })).items[0]?.id ?? 0;
}

interface MoveDetails {
  trigger: string;
  count: number;
  moves: { uuid: string; name: string; from: string; to: string; sizeBytes: number }[];
  planId: string;
  reason: string;
}

describe('files.migrate', () => {
  it('moves the chosen file to the chosen node through the queue, and records a `migrate` operation', async () => {
    await caller.workload.stress({ node: 'zk1', files: 4, sizeKb: 2 });
    const counts = (await caller.scheduler.diagnostics()).counts;
    const [file] = await filesOn('zk1');
    const since = await lastOperationId();

    const task = await caller.files.migrate({ uuid: file!.uuid, target: 'zk3' });
    expect(task).toMatchObject({
      uuid: file!.uuid,
      name: file!.name,
      source: 'zk1',
      target: 'zk3',
      priority: 10,
      origin: 'manual',
      status: 'pending',
    });
    expect(await t.services.engine.drain(20_000)).toBe(true);

    const moved = await caller.files.byId({ uuid: file!.uuid });
    expect(moved.node).toBe('zk3');
    expect(moved.path).toBe(`zk3/${file!.name}`);
    expect(await t.storage.stat('zk3', file!.name)).toMatchObject({ sha256: file!.sha256 });
    expect(await t.storage.stat('zk1', file!.name)).toBeNull();
    const [add] = await operationsSince('migration_task_add', since);
    expect(add).toMatchObject({
      node: 'zk1',
      details: { id: task.id, uuid: file!.uuid, target: 'zk3', priority: 10, via: 'files.migrate' },
    });
    const moves = await operationsSince('migrate', since);
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({
      node: 'zk1',
      status: 'success',
      beforeMetrics: { counts },
      afterMetrics: { counts: { ...counts, zk1: counts.zk1! - 1, zk3: counts.zk3! + 1 } },
    });
    expect(moves[0]!.details).toEqual({
      trigger: 'manual',
      count: 1,
      moves: [{ uuid: file!.uuid, name: file!.name, from: 'zk1', to: 'zk3', sizeBytes: file!.sizeBytes }],
      planId: task.planId,
      reason: task.reason,
      // The test's agents share a filesystem: the file is hard-linked, no byte crosses the wire.
      transfer: { bytesOnWire: 0, linkedFiles: 1 },
    });
  });

  it('refuses, by code, an unknown or malformed target, an unknown file, and the node the file is on', async () => {
    const [file] = await filesOn('zk1');
    const open = t.services.engine.openMigrations().length;
    expect(await refusal(caller.files.migrate({ uuid: file!.uuid, target: 'zk9' }))).toMatchObject({
      code: 'NOT_FOUND',
      appCode: 'NODE_NOT_FOUND',
      message: expect.stringMatching(/unknown target node "zk9"/),
    });
    expect(await refusal(caller.files.migrate({ uuid: file!.uuid, target: '../zk2' }))).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/^target: node must be a short name/),
    });
    expect(await refusal(caller.files.migrate({ uuid: '00000000-0000-4000-8000-000000000000', target: 'zk2' }))).toMatchObject({
      code: 'NOT_FOUND',
      appCode: 'FILE_NOT_FOUND',
    });
    expect(await refusal(caller.files.migrate({ uuid: file!.uuid, target: 'zk1' }))).toMatchObject({
      code: 'CONFLICT',
      message: `${file!.name} is already on zk1`,
    });
    expect(t.services.engine.openMigrations()).toHaveLength(open);
  });

  it('refuses a drained target, and a file already moving (naming the migration)', async () => {
    const [file, other] = await filesOn('zk1');
    await caller.nodes.drain({ node: 'zk2', reason: 'test' });
    try {
      expect(await refusal(caller.files.migrate({ uuid: file!.uuid, target: 'zk2' }))).toMatchObject({
        code: 'CONFLICT',
        message: expect.stringMatching(/zk2 is drained/),
      });
    } finally {
      await caller.nodes.undrain({ node: 'zk2' });
    }
    // Paused, the first move waits in the queue: the file is moving as far as a second request is concerned.
    await caller.migrations.pause({});
    const task = await caller.files.migrate({ uuid: other!.uuid, target: 'zk2' });
    const again = await refusal(caller.files.migrate({ uuid: other!.uuid, target: 'zk3' }));
    expect(again).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`already moving: migration ${task.id} (pending, zk1 → zk2)`),
    });
    expect(t.services.engine.openMigrations().map((m) => m.id)).toEqual([task.id]);
  });
});

describe('migrations.addTask and migrations.updateTask', () => {
  it('adds one task with its priority and deadline; refuses a stale source and a source equal to the target', async () => {
    const [file] = await filesOn('zk1');
    await caller.migrations.pause({});
    const deadline = '2030-01-02T03:04:05.000Z';
    const task = await caller.migrations.addTask({ uuid: file!.uuid, source: 'zk1', target: 'zk2', priority: 3, deadline });
    expect(task).toMatchObject({ source: 'zk1', target: 'zk2', priority: 3, deadline, origin: 'manual', status: 'pending' });
    await caller.migrations.cancel({ id: task.id });

    expect(await refusal(caller.migrations.addTask({ uuid: file!.uuid, source: 'zk2', target: 'zk3', priority: 5 }))).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/is on zk1, not on zk2: the task is stale/),
    });
    expect(await refusal(caller.migrations.addTask({ uuid: file!.uuid, source: 'zk1', target: 'zk1', priority: 5 }))).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'target: target must differ from source',
    });
    expect(await refusal(caller.migrations.addTask({ uuid: file!.uuid, source: 'zk1', target: 'zk2', priority: 11 }))).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'priority: must be at most 10',
    });
    expect(await refusal(caller.migrations.addTask({ uuid: file!.uuid, source: 'zk7', target: 'zk2', priority: 5 }))).toMatchObject({
      code: 'NOT_FOUND',
      appCode: 'NODE_NOT_FOUND',
    });
  });

  it('changes a queued task and records before/after; a finished, running or unknown task is refused', async () => {
    const [file] = await filesOn('zk1');
    await caller.migrations.pause({});
    const task = await caller.migrations.addTask({
      uuid: file!.uuid,
      source: 'zk1',
      target: 'zk2',
      priority: 4,
      deadline: '2030-01-01T00:00:00Z',
    });
    const since = await lastOperationId();
    const updated = await caller.migrations.updateTask({ id: task.id, priority: 8, deadline: null });
    expect(updated).toMatchObject({ id: task.id, priority: 8, deadline: null, status: 'pending' });
    const [op] = await operationsSince('migration_task_update', since);
    expect(op).toMatchObject({
      beforeMetrics: { priority: 4, deadline: '2030-01-01T00:00:00.000Z' },
      afterMetrics: { priority: 8, deadline: null },
    });
    expect(await refusal(caller.migrations.updateTask({ id: task.id }))).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/give a priority or a deadline/),
    });

    await caller.migrations.resume({});
    expect(await t.services.engine.drain(20_000)).toBe(true);
    expect(await refusal(caller.migrations.updateTask({ id: task.id, priority: 2 }))).toMatchObject({
      code: 'CONFLICT',
      message: `migration ${task.id} is completed: only a pending or paused task can change`,
    });
    expect(await refusal(caller.migrations.updateTask({ id: 999_999, priority: 2 }))).toMatchObject({
      code: 'NOT_FOUND',
      appCode: 'TASK_NOT_FOUND',
    });

    // A running copy: slow enough under a bandwidth cap to be caught running.
    await caller.workload.stress({ node: 'zk2', files: 1, sizeKb: 1024 });
    await caller.migrations.setCaps({ bandwidthBytesPerSec: 128 * 1024 });
    const [big] = await filesOn('zk2');
    const slow = await caller.files.migrate({ uuid: big!.uuid, target: 'zk3' });
    await expect.poll(() => t.services.engine.progress().tasks.find((m) => m.id === slow.id)?.status, { timeout: 5_000 }).toBe('running');
    expect(await refusal(caller.migrations.updateTask({ id: slow.id, priority: 1 }))).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/is running/),
    });
  });

  it('re-orders the queue at once: a task raised in priority (or given the earliest deadline) starts next', async () => {
    // One slow copy holds the only slot; 300 queued moves wait behind it, more than the engine's look-ahead window.
    await caller.workload.stress({ node: 'zk3', files: 300, sizeKb: 1 });
    await caller.workload.stress({ node: 'zk3', files: 1, sizeKb: 2048 });
    await caller.migrations.setCaps({ maxConcurrent: 1, bandwidthBytesPerSec: 64 * 1024 });
    const [big, ...small] = await filesOn('zk3');
    expect(big!.sizeBytes).toBe(2048 * 1024);
    await caller.files.migrate({ uuid: big!.uuid, target: 'zk1' });
    const queued = t.services.engine.enqueue(
      small.slice(0, 300).map((f) => ({ uuid: f.uuid, name: f.name, from: 'zk3', to: 'zk2', sizeBytes: f.sizeBytes, reason: 'test' })),
    );
    expect(queued).toHaveLength(300);
    const head = () => t.services.engine.progress().waiting[0]?.id;
    await expect.poll(head, { timeout: 5_000 }).toBe(queued[0]!.id);

    const last = queued.at(-1)!;
    await caller.migrations.updateTask({ id: last.id, priority: 9 });
    await expect.poll(head, { timeout: 5_000 }).toBe(last.id);

    // Under the deadline policy the earliest deadline leads, whatever its priority.
    await caller.migrations.setPolicy({ policy: 'deadline' });
    const middle = queued[150]!;
    await caller.migrations.updateTask({ id: middle.id, deadline: '2030-01-01T00:00:00Z' });
    await expect.poll(head, { timeout: 5_000 }).toBe(middle.id);
    // Clearing it puts it back among the tasks without a deadline (higher priority first).
    await caller.migrations.updateTask({ id: middle.id, deadline: null });
    await expect.poll(head, { timeout: 5_000 }).toBe(last.id);
  });
});

describe('every executed move is an operation', () => {
  it('a batch of N linked moves writes operations whose counts add up to N, with the counts before and after', async () => {
    await caller.workload.stress({ node: 'zk2', files: 40, sizeKb: 1 });
    const files = (await filesOn('zk2')).slice(0, 40);
    const since = await lastOperationId();
    const countsBefore = (await caller.scheduler.diagnostics()).counts;
    // Queued as the scheduler queues its plans: each move's operation is then an `auto_migrate`.
    const planId = 'plan-for-the-operations-test';
    const queued = t.services.engine.enqueue(
      files.map((f) => ({ uuid: f.uuid, name: f.name, from: 'zk2', to: 'zk1', sizeBytes: f.sizeBytes, reason: 'test plan' })),
      { planId, origin: 'auto' },
    );
    expect(queued).toHaveLength(40);
    expect(await t.services.engine.drain(20_000)).toBe(true);
    expect((await filesOn('zk2')).filter((f) => files.some((g) => g.uuid === f.uuid))).toEqual([]);

    const ops = (await operationsSince('auto_migrate', since)).filter((o) => (o.details as unknown as MoveDetails).planId === planId);
    const details = ops.map((o) => o.details as unknown as MoveDetails);
    expect(details.reduce((a, d) => a + d.count, 0)).toBe(40);
    expect(details.every((d) => d.count === d.moves.length && d.trigger === 'auto' && d.reason === 'test plan')).toBe(true);
    expect(details.some((d) => d.count > 1)).toBe(true); // hard links on one filesystem: moves commit in batches
    expect(new Set(details.flatMap((d) => d.moves.map((m) => m.uuid)))).toEqual(new Set(files.map((f) => f.uuid)));
    // Each operation's counts follow on from the previous one's, from where the files were to where they are.
    expect(ops[0]!.beforeMetrics).toEqual({ counts: countsBefore });
    for (let i = 1; i < ops.length; i++) expect(ops[i]!.beforeMetrics).toEqual(ops[i - 1]!.afterMetrics);
    expect(ops.at(-1)!.afterMetrics).toEqual({ counts: { ...countsBefore, zk1: countsBefore.zk1! + 40, zk2: countsBefore.zk2! - 40 } });
    expect(await operationsSince('migrate', since)).toEqual([]);
  });

  it('a plan queued by an operator moves as `migrate`; zk_demo_migrations_total counts every move', async () => {
    const metric = async () => Number(/zk_demo_migrations_total\{result="success"\} (\d+)/.exec(await t.services.metrics.text())?.[1] ?? 0);
    const before = await metric();
    const since = await lastOperationId();
    const { queued, plan } = await caller.migrations.enqueue({ strategy: 'count' });
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBe(plan.moves.length);
    expect(await t.services.engine.drain(20_000)).toBe(true);
    const ops = await operationsSince('migrate', since);
    expect(ops.reduce((a, o) => a + (o.details as unknown as MoveDetails).count, 0)).toBe(queued);
    expect(await metric()).toBe(before + queued);
    expect(await operationsSince('auto_migrate', since)).toEqual([]);
  });
});

describe('migrations.status', () => {
  it('counts the journal by status, measures progress on bytes, and the bandwidth each node uses under its cap', async () => {
    const done = await caller.migrations.status();
    expect(done).toMatchObject({ pending: 0, running: 0, paused: 0, progress: 1, queuePaused: false });
    expect(done.completed).toBeGreaterThan(40);
    expect(done.total).toBe(done.completed + done.failed + done.cancelled);
    expect(Object.keys(done.bandwidthPerNode).sort()).toEqual(['zk1', 'zk2', 'zk3']);

    // The figures cover the last few seconds: wait until the moves of the tests above are out of the window.
    const quiet = async () =>
      Object.values((await caller.migrations.status()).bandwidthPerNode).every((b) => b.inBytesPerSec === 0 && b.outBytesPerSec === 0);
    await expect.poll(quiet, { timeout: 10_000, interval: 250 }).toBe(true);

    const cap = 256 * 1024;
    await caller.workload.stress({ node: 'zk1', files: 1, sizeKb: 3072 });
    await caller.migrations.setCaps({ bandwidthBytesPerSec: cap });
    const [big] = await filesOn('zk1');
    await caller.files.migrate({ uuid: big!.uuid, target: 'zk2' });
    await expect
      .poll(async () => (await caller.migrations.status()).bandwidthPerNode.zk2!.inBytesPerSec, { timeout: 10_000 })
      .toBeGreaterThan(cap / 4);
    // The figures are the agents' own, of every byte on the wire: the upload of the file into zk1 counts as zk1's
    // inbound until it is out of the window (the move of 3 MiB at the cap lasts 12 s, well past that).
    await expect.poll(async () => (await caller.migrations.status()).bandwidthPerNode.zk1!.inBytesPerSec, { timeout: 8_000 }).toBe(0);
    const st = await caller.migrations.status();
    expect(st.running).toBe(1);
    expect(st.progress).toBeGreaterThan(0);
    expect(st.progress).toBeLessThan(1);
    expect(st.bandwidthPerNode.zk1).toMatchObject({ capBytesPerSec: cap, inBytesPerSec: 0 });
    expect(st.bandwidthPerNode.zk1!.outBytesPerSec).toBeGreaterThan(0);
    expect(st.bandwidthPerNode.zk1!.outBytesPerSec).toBeLessThanOrEqual(cap * 1.2);
    expect(st.bandwidthPerNode.zk3).toMatchObject({ inBytesPerSec: 0, outBytesPerSec: 0 });
  });
});

describe('refusals that need the node set to change', () => {
  it('refuses a target its move would fill past the high watermark (capacity known)', async () => {
    await caller.nodes.addStorageNode({ node: 'store4', capacityBytes: 100 * 1024 });
    await expect
      .poll(async () => (await caller.nodes.lifecycle()).find((n) => n.node === 'store4')?.lifecycle, { timeout: 10_000 })
      .toBe('active');
    await caller.workload.stress({ node: 'zk1', files: 1, sizeKb: 128 });
    const [file] = await filesOn('zk1');
    expect(await refusal(caller.files.migrate({ uuid: file!.uuid, target: 'store4' }))).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/store4 would hold .* past its 90% high watermark \(90\.0 KiB of 100 KiB\)/),
    });
  });

  it('refuses a target whose storage agent is offline', async () => {
    // Liveness on, on an ensemble of its own (the agents' alive znodes are per ensemble): zk2's agent stops, and
    // the monitor records zk2 OFFLINE.
    const live = await createTestServices({ services: { liveness: { reconcileIntervalMs: 3_600_000 } } });
    try {
      await live.services.liveness!.start();
      await live.agents.stop('zk2');
      await expect.poll(() => live.services.liveness!.offlineNodes(), { timeout: 10_000 }).toEqual(['zk2']);
      const liveCaller = createCaller(createContextInner({ services: live.services }));
      await liveCaller.workload.stress({ node: 'zk1', files: 1, sizeKb: 1 });
      const [file] = (await liveCaller.files.list({ node: 'zk1' })).items;
      expect(await refusal(liveCaller.files.migrate({ uuid: file!.uuid, target: 'zk2' }))).toMatchObject({
        code: 'CONFLICT',
        message: expect.stringMatching(/zk2 is offline/),
      });
    } finally {
      await live.close();
    }
  });
});
