import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { countFilesByNode } from '@zkha/db';

import { findInconsistencies } from './consistency.ts';
import { createTestServices, type TestServices } from '../testing.ts';

/**
 * files.verify with repair while the migration engine is copying. Between a move's commit and its clean-up the
 * file is in two folders; a check landing there would call the source an orphan and the repair would adopt it
 * as a new file (a duplicate). The engine is held still for the check, so it finds nothing and adopts nothing.
 */
let t: TestServices;
beforeAll(async () => {
  t = await createTestServices({ scheduler: { threshold: 2 } });
  t.services.engine.start();
});
afterAll(async () => {
  await t?.close();
});

describe('verify and repair during migrations', () => {
  it('waits for running copies, finds nothing, adopts nothing, and lets the queue go on', async () => {
    const { workload, engine, files, scheduler } = t.services;
    await workload.stress({ node: 'zk1', files: 12, sizeKb: 64, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 16 * 1024, maxConcurrent: 2 });
    const queued = engine.enqueue(scheduler.dryRun('count').moves);
    expect(queued.length).toBeGreaterThan(4);
    await new Promise((r) => setTimeout(r, 300)); // copies are under way
    expect(engine.progress().totals.running).toBeGreaterThan(0);

    const report = await files.verify({ repair: true });
    expect(report.found).toEqual([]);
    expect(report.repaired).toEqual([]);
    expect(engine.progress().paused).toBe(false); // the queue was let go again

    engine.setCaps({ bandwidthBytesPerSec: null });
    expect(await engine.drain(30_000)).toBe(true);
    const counts = countFilesByNode(t.services.db);
    expect((counts.zk1 ?? 0) + (counts.zk2 ?? 0) + (counts.zk3 ?? 0)).toBe(12);
    expect(await findInconsistencies({ ...t.services, nodes: t.services.config.nodes })).toEqual([]);
  });

  it('refuses to delete a file while it is being moved, with the migration in the message; deletes it once moved', async () => {
    const { workload, engine, files, scheduler } = t.services;
    await workload.stress({ node: 'zk1', files: 9, sizeKb: 64, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 16 * 1024, maxConcurrent: 1 });
    const [first] = engine.enqueue(scheduler.dryRun('count').moves);
    expect(first).toBeDefined();
    await expect(files.delete(first!.uuid)).rejects.toThrow(new RegExp(`is being moved to ${first!.target} \\(migration ${first!.id}`));
    expect(files.byId(first!.uuid).uuid).toBe(first!.uuid); // still there, whole
    engine.setCaps({ bandwidthBytesPerSec: null });
    expect(await engine.drain(30_000)).toBe(true);
    await files.delete(first!.uuid);
    expect(await findInconsistencies({ ...t.services, nodes: t.services.config.nodes })).toEqual([]);
  });

  it("an operator's pause made while a check runs outlasts the check (the check used to resume the queue as it ended)", async () => {
    const { files, engine, workload, scheduler } = t.services;
    const check = files.verify({ repair: false });
    engine.pause(); // the operator, while the check holds the queue
    await check;
    expect(engine.progress().paused).toBe(true);
    await workload.stress({ node: 'zk1', files: 12, sizeKb: 1, triggerScheduler: false });
    const queued = engine.enqueue(scheduler.dryRun('count').moves);
    expect(queued.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(engine.progress().totals.pending).toBe(queued.length); // nothing started
    engine.resume();
    expect(await engine.drain(30_000)).toBe(true);
  });
});
