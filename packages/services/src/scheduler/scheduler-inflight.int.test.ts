import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { countFilesByNode } from '@zkha/db';

import { createTestServices, type TestServices } from '../testing.ts';

/**
 * Re-planning while a plan's moves are still queued: the moves in flight count as done. Before, the files were
 * counted on their sources, so each re-plan (the automatic loop in whole_plan mode, a second "queue the plan")
 * proposed another plan's worth of moves and the queue over-balanced.
 */
let t: TestServices;
beforeAll(async () => {
  t = await createTestServices({ scheduler: { threshold: 2, mode: 'whole_plan' } });
  t.services.engine.start();
});
afterAll(async () => {
  await t?.close();
});

describe('planning with moves in flight', () => {
  it('a second plan while the first is queued proposes nothing more, and the end state is balanced', async () => {
    const { workload, engine, scheduler } = t.services;
    await workload.stress({ node: 'zk1', files: 30, sizeKb: 16, triggerScheduler: false });
    engine.setCaps({ bandwidthBytesPerSec: 32 * 1024, maxConcurrent: 2 });
    const first = scheduler.dryRun('count');
    expect(engine.enqueue(first.moves)).toHaveLength(first.moves.length);
    expect(first.moves.length).toBe(20); // threshold 2: the spread must end below 2 files, so 30 / 0 / 0 → 10 / 10 / 10

    const second = scheduler.dryRun('count');
    expect(second.moves).toEqual([]);
    const run = await scheduler.run('auto');
    expect(run).toMatchObject({ queued: 0, executed: false });
    expect(run.before).toMatchObject({ shouldMigrate: false, moves: 0 }); // the diagnostics agree: the queued moves count on their targets

    engine.setCaps({ bandwidthBytesPerSec: null });
    expect(await engine.drain(30_000)).toBe(true);
    const counts = countFilesByNode(t.services.db);
    expect(
      Math.max(counts.zk1 ?? 0, counts.zk2 ?? 0, counts.zk3 ?? 0) - Math.min(counts.zk1 ?? 0, counts.zk2 ?? 0, counts.zk3 ?? 0),
    ).toBeLessThan(2);
    expect((counts.zk1 ?? 0) + (counts.zk2 ?? 0) + (counts.zk3 ?? 0)).toBe(30);
  });
});
