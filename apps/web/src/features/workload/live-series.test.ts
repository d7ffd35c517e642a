import { describe, expect, it } from 'vitest';

import { addMigration, addPlan, chartRows, emptySeries, migrationBuckets, moveBatchOf, timeTicks, windowStart } from './live-series.ts';

const plan = (t: number, counts: Record<string, number>, delta = 0, threshold = 5) => ({
  t,
  counts,
  delta,
  threshold,
  unit: 'files' as const,
});

describe('live series', () => {
  it('skips plans that change nothing and extends the line to now', () => {
    let s = emptySeries();
    s = addPlan(s, plan(1_000, { zk1: 1, zk2: 0 }, 1));
    const same = addPlan(s, plan(2_000, { zk1: 1, zk2: 0 }, 1));
    expect(same).toBe(s);
    s = addPlan(s, plan(3_000, { zk1: 2, zk2: 0 }, 2));
    const rows = chartRows(s, 10_000, 60_000);
    expect(rows.files.map((r) => r.t)).toEqual([1_000, 3_000, 10_000]);
    expect(rows.files.at(-1)).toMatchObject({ zk1: 2, zk2: 0 });
    expect(rows.delta.at(-1)).toEqual({ t: 10_000, delta: 2, threshold: 5 });
    expect(rows.nodes).toEqual(['zk1', 'zk2']);
  });

  it('puts points from the log in time order and skips repeats of the point before', () => {
    let s = emptySeries();
    s = addPlan(s, plan(5_000, { zk1: 3 }, 3));
    s = addPlan(s, { t: 2_000, counts: { zk1: 1 }, delta: null, threshold: null });
    s = addPlan(s, { t: 3_000, counts: { zk1: 1 }, delta: null, threshold: null });
    expect(s.plans.map((p) => p.t)).toEqual([2_000, 5_000]);
  });

  it('starts the window with the last plan before it', () => {
    let s = emptySeries();
    s = addPlan(s, plan(0, { zk1: 4 }, 4));
    const rows = chartRows(s, 120_000, 60_000);
    expect(rows.files[0]).toMatchObject({ t: 60_000, zk1: 4 });
  });

  it('counts every move of every batch per 10 s bucket, automatic and manual, once per operation id', () => {
    let s = emptySeries();
    s = addMigration(s, 1, { t: 100_500, count: 1, kind: 'automatic' });
    s = addMigration(s, 2, { t: 101_000, count: 5, kind: 'automatic' });
    s = addMigration(s, 2, { t: 101_000, count: 5, kind: 'automatic' });
    s = addMigration(s, 3, { t: 105_000, count: 2, kind: 'manual' });
    s = addMigration(s, 4, { t: 115_000, count: 1, kind: 'manual' });
    const buckets = migrationBuckets(s, 119_999, 30_000, 10_000);
    expect(buckets).toEqual([
      { t: 90_000, automatic: 0, manual: 0 },
      { t: 100_000, automatic: 6, manual: 2 },
      { t: 110_000, automatic: 0, manual: 1 },
    ]);
  });

  it('reads a batch from a move operation: its count, one for older records, nothing for other actions', () => {
    const op = (action: string, details: Record<string, unknown>, status = 'success') => ({
      action,
      status,
      timestamp: '1970-01-01T00:01:40.000Z',
      details,
    });
    expect(moveBatchOf(op('auto_migrate', { count: 12 }))).toEqual({ t: 100_000, count: 12, kind: 'automatic' });
    expect(moveBatchOf(op('migrate', { count: 3 }))).toEqual({ t: 100_000, count: 3, kind: 'manual' });
    expect(moveBatchOf(op('auto_migrate', { file: 'a', from: 'zk1', to: 'zk2' }))).toEqual({ t: 100_000, count: 1, kind: 'automatic' });
    expect(moveBatchOf(op('auto_migrate', { count: 2 }, 'failed'))).toBeNull();
    expect(moveBatchOf(op('stress', { count: 12 }))).toBeNull();
  });

  it('draws the spread in the unit of the latest plan only', () => {
    let s = emptySeries();
    s = addPlan(s, { t: 1_000, counts: { zk1: 1 }, delta: 4096, threshold: 1024, unit: 'bytes' });
    s = addPlan(s, plan(2_000, { zk1: 2 }, 2));
    const rows = chartRows(s, 10_000, 60_000);
    expect(rows.unit).toBe('files');
    expect(rows.delta.map((r) => r.delta)).toEqual([null, 2, 2]);
  });

  it('zooms the window to the history it has, between one and five minutes', () => {
    const now = 1_000_000;
    expect(windowStart(emptySeries(), now)).toBe(now - 60_000);
    const recent = addPlan(emptySeries(), plan(now - 20_000, { zk1: 1 }));
    expect(windowStart(recent, now)).toBe(now - 60_000);
    const twoMin = addPlan(emptySeries(), plan(now - 120_000, { zk1: 1 }));
    expect(windowStart(twoMin, now)).toBe(now - 132_000);
    const old = addPlan(emptySeries(), plan(now - 3_600_000, { zk1: 1 }));
    expect(windowStart(old, now, 300_000)).toBe(now - 300_000);
  });

  it('picks round ticks, five at most', () => {
    expect(timeTicks(0, 60_000)).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
    expect(timeTicks(0, 130_000)).toEqual([0, 30_000, 60_000, 90_000, 120_000]);
    expect(timeTicks(5_000, 300_000)).toEqual([60_000, 120_000, 180_000, 240_000, 300_000]);
  });
});
