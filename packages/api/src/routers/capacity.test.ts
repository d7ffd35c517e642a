/**
 * Each node's own capacity through createCaller over real services (a real 3-node ensemble, SQLite file and
 * upload folder): the configured capacities as the procedures show them, and the NODE_FULL refusals of puts
 * (stress, bulk generation, upload) and of a move whose target filled up after it was queued, with the figures.
 */
import { readdir } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isAppError } from '@zkha/core';
import { createTestServices, type TestServices } from '@zkha/services/testing';

import { createContextInner } from '../context.ts';
import { createCaller } from '../root.ts';
import { errorOf } from './test-helpers.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

let t: TestServices;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  t = await createTestServices({
    scheduler: { threshold: 5, mode: 'whole_plan' },
    // Small nodes, so a few 64 KiB files fill one: 1 MiB each, zk3 2 MiB.
    services: { storageCapacity: { defaultBytes: MiB, perNode: { zk3: 2 * MiB } } },
  });
  t.services.engine.start();
  caller = createCaller(createContextInner({ services: t.services }));
});
afterAll(async () => {
  await t?.close();
});

/** The domain code behind a refused call. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; appCode: string | null; message: string }> {
  const err = await errorOf(p);
  return { code: err.code, appCode: isAppError(err.cause) ? err.cause.code : null, message: err.message };
}

function upload(node: string, name: string, bytes: number) {
  const form = new FormData();
  form.set('node', node);
  form.set('name', name);
  form.set('file', new Blob([new Uint8Array(bytes).fill(7)]));
  return caller.files.upload(form);
}

async function filesOn(node: string) {
  return (await caller.files.list({ node, limit: 500 })).items;
}

describe('capacity per node', () => {
  it('shows the configured capacities: the default and a per-node override', async () => {
    const lifecycle = await caller.nodes.lifecycle();
    expect(lifecycle.map((n) => [n.node, n.capacityBytes])).toEqual([
      ['zk1', MiB],
      ['zk2', MiB],
      ['zk3', 2 * MiB],
    ]);
    const rec = await caller.capacity.recommendation();
    expect(rec.nodes.map((n) => [n.node, n.capacityBytes, n.source])).toEqual([
      ['zk1', MiB, 'configured'],
      ['zk2', MiB, 'configured'],
      ['zk3', 2 * MiB, 'configured'],
    ]);
    expect(rec).toMatchObject({ capacityBytes: 4 * MiB, action: 'no_action', enoughHistory: false });
    expect(rec.reason).toMatch(/but removing nodes waits for 1 h of history; not enough history for a trend/);
    expect(t.services.capacities.of('zk1')).toMatchObject({ capacityBytes: MiB, source: 'configured', ownFilesystem: false });
  });
});

describe('NODE_FULL', () => {
  it('stress onto a node refuses the whole batch that would pass its capacity, with the figures, creating nothing', async () => {
    const before = t.services.files.counts();
    expect(await refusal(caller.workload.stress({ node: 'zk1', files: 20, sizeKb: 64 }))).toEqual({
      code: 'CONFLICT',
      appCode: 'NODE_FULL',
      message: 'zk1 has too little room: 0 B of 1.0 MiB used, the 20 files need 1.3 MiB (1.0 MiB left)',
    });
    expect(t.services.files.counts()).toEqual(before);

    // Exactly the capacity fits; one file more does not.
    expect((await caller.workload.stress({ node: 'zk1', files: 16, sizeKb: 64 })).created).toBe(16);
    expect(await refusal(caller.workload.stress({ node: 'zk1', files: 1, sizeKb: 64 }))).toEqual({
      code: 'CONFLICT',
      appCode: 'NODE_FULL',
      message: 'zk1 is full: 1.0 MiB of 1.0 MiB used, the file needs 64.0 KiB',
    });
    expect(t.services.files.counts().zk1).toBe(16);
  });

  it('an upload into a full node is cut off with NODE_FULL and leaves nothing behind; one that fits is stored', async () => {
    expect(await refusal(upload('zk1', 'late.bin', 128 * KiB))).toEqual({
      code: 'CONFLICT',
      appCode: 'NODE_FULL',
      message: 'zk1 is full: 1.0 MiB of 1.0 MiB used, the file needs more than the 0 B left',
    });
    // Bigger than a whole node: refused once it passes the room left, whatever the size limit.
    const big = await refusal(upload('zk2', 'big.bin', (3 * MiB) / 2));
    expect(big).toMatchObject({ code: 'CONFLICT', appCode: 'NODE_FULL' });
    expect(big.message).toMatch(/^zk2 (is full|has too little room): 0 B of 1\.0 MiB used, the file needs more than the 1\.0 MiB left$/);
    for (const node of ['zk1', 'zk2'])
      expect(
        (await readdir(t.agents.folderOf(node))).filter((n) => n.startsWith('late') || n.startsWith('big') || n.endsWith('.part')),
      ).toEqual([]);
    expect((await filesOn('zk1')).some((f) => f.name === 'late.bin')).toBe(false);

    const ok = await upload('zk2', 'fits.bin', 512 * KiB);
    expect(ok).toMatchObject({ node: 'zk2', sizeBytes: 512 * KiB });
  });

  it('placement passes over a full node: generated files go where there is room', async () => {
    const res = await caller.files.bulkGenerate({ count: 4, sizeKb: 64, placement: 'auto' });
    expect(res.files.map((f) => f.node)).not.toContain('zk1');
    expect(res.created).toBe(4);
  });

  it('a move whose target filled up after it was queued fails with the reason; the file stays whole on its source', async () => {
    // Full: the high watermark refuses the move before it is queued.
    const [onZk3] = await filesOn('zk3');
    expect(onZk3).toBeDefined();
    const watermark = await refusal(caller.files.migrate({ uuid: onZk3!.uuid, target: 'zk1' }));
    expect(watermark).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/past its 90% high watermark/) });

    // Room when queued, none when it runs: the engine refuses it at execution time.
    await caller.migrations.pause({});
    const task = await caller.files.migrate({ uuid: onZk3!.uuid, target: 'zk2' });
    const used = t.services.capacities.of('zk2').usedBytes;
    const fill = Math.floor((MiB - used) / (64 * KiB));
    await caller.workload.stress({ node: 'zk2', files: fill, sizeKb: 64 });
    await caller.migrations.resume({});
    expect(await t.services.engine.drain(20_000)).toBe(true);
    const [failed] = await caller.migrations.list({ status: 'failed', limit: 10 });
    expect(failed).toMatchObject({ id: task.id, status: 'failed', phase: 'planned' });
    expect(failed!.error).toMatch(
      new RegExp(`^${onZk3!.name} not moved to zk2: zk2 is full: 1\\.0 MiB of 1\\.0 MiB used, the file needs 64\\.0 KiB$`),
    );
    expect((await caller.files.byId({ uuid: onZk3!.uuid })).node).toBe('zk3');
    const report = await caller.files.verify({ repair: false });
    expect(report.found).toEqual([]);
  });

  it('a node added at run time takes the capacity it is given, else the default', async () => {
    await caller.migrations.pause({});
    await caller.nodes.addStorageNode({ node: 'store4' });
    await caller.nodes.addStorageNode({ node: 'store5', capacityBytes: 3 * MiB });
    await caller.migrations.cancel({});
    await caller.migrations.resume({});
    const byNode = Object.fromEntries((await caller.nodes.lifecycle()).map((n) => [n.node, n.capacityBytes]));
    expect(byNode).toMatchObject({ store4: MiB, store5: 3 * MiB });
    expect(t.services.capacities.of('store4')).toMatchObject({ capacityBytes: MiB, source: 'configured' });
    expect(t.services.capacities.of('store5')).toMatchObject({ capacityBytes: 3 * MiB, source: 'registered' });
  });
});
