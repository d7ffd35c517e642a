import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listOperations } from '@zkha/db';

import { createTestServices, type TestServices } from '../testing.ts';

/**
 * The capacity planner over recorded history: real files and a real SQLite file; only time is driven by
 * the test (a day per sampling round), so a trend of days needs no waiting.
 */
const DAY = 24 * 3600_000;
let t: TestServices;
let nowMs = Date.parse('2026-01-01T00:00:00Z');

beforeAll(async () => {
  t = await createTestServices({
    services: {
      clock: { now: () => new Date(nowMs) },
      // 100 KiB per node, 300 KiB in all: a few dozen 2 KiB files move the utilization visibly.
      storageCapacity: { defaultBytes: 100 * 1024, perNode: {} },
      capacity: { targetUtilization: 0.7, band: 0.1 },
    },
  });
});
afterAll(async () => {
  await t?.close();
});

async function addFiles(n: number) {
  await t.services.files.generate({ count: n, sizeBytes: 2 * 1024, node: null, action: 'uploaded' });
}

describe('capacity planner', () => {
  it('samples usage daily: no advice to remove nodes on one sample, then no_action while growing, scale_up past the band', async () => {
    const { capacity } = t.services;
    await addFiles(30); // 60 KiB of 300 KiB: 20%
    const day0 = capacity.tick();
    expect(day0.sample).toMatchObject({ usedBytes: 60 * 1024, capacityBytes: 300 * 1024, fileCount: 30, nodeCount: 3 });
    // One sample is no history: 20% is below the band, but no node is removed before an hour of it, and there is no
    // trend ('unknown', "not enough history"), never 'stable'.
    expect(day0.recommendation).toMatchObject({ action: 'no_action', nodesToRemove: 0, trend: 'unknown', enoughHistory: false });
    expect(day0.recommendation.reason).toMatch(
      /is below 63\.0%, but removing nodes waits for 1 h of history; not enough history for a trend \(none of the 1 h needed\)$/,
    );
    expect(day0.recommendation.nodes.map((n) => [n.node, n.capacityBytes, n.source])).toEqual([
      ['zk1', 100 * 1024, 'configured'],
      ['zk2', 100 * 1024, 'configured'],
      ['zk3', 100 * 1024, 'configured'],
    ]);

    nowMs += DAY;
    await addFiles(30); // 40%, growing 60 KiB a day: a month of growth needs the room
    const day1 = capacity.tick().recommendation;
    expect(day1).toMatchObject({ action: 'no_action', trend: 'growing' });
    expect(day1.growthBytesPerDay).toBeCloseTo(60 * 1024, 0);

    nowMs += DAY;
    await addFiles(30); // 60%
    const day2 = capacity.tick().recommendation;
    expect(day2.action).toBe('no_action');
    // 180 KiB now, the upper edge (77% of 300 KiB = 231 KiB) at 60 KiB/day: 0.85 days away.
    expect(day2.timeToTargetMs! / DAY).toBeCloseTo((0.77 * 300 - 180) / 60, 2);

    nowMs += DAY;
    await addFiles(30); // 80%: above the band
    const day3 = capacity.tick().recommendation;
    expect(day3).toMatchObject({ action: 'scale_up', nodesToAdd: 1, trend: 'growing', timeToTargetMs: 0, samples: 4 });
    expect(day3.utilization).toBeCloseTo(0.8, 5);
    expect(day3.utilizationAfter).toBeCloseTo(240 / 400, 5);

    const history = capacity.history(10);
    expect(history.map((h) => h.action)).toEqual(['scale_up', 'no_action', 'no_action', 'no_action']);
    // The first row, from the lone sample, says so: the console's history shows "not enough history" for it.
    expect(history.map((h) => h.trend)).toEqual(['growing', 'growing', 'growing', 'unknown']);
    expect(history[0]!.utilization).toBeCloseTo(0.8, 5);
    expect(history[0]!.details).toMatchObject({ usedBytes: 240 * 1024, capacityBytes: 300 * 1024 });
    expect(capacity.samples().map((s) => s.usedBytes / 1024)).toEqual([60, 120, 180, 240]);
    // Each change of advice is in the audit.
    const changes = listOperations(t.services.db, { action: 'capacity_recommendation', limit: 10 }).items.map((o) => o.details);
    expect(changes).toEqual([expect.objectContaining({ from: 'no_action', to: 'scale_up' })]);
  });

  it('keeps one row per change of advice within the hour, and uses a registered capacity over the default', async () => {
    const { capacity } = t.services;
    nowMs += 60_000;
    const again = capacity.tick();
    expect(again.recorded).toBe(false);
    const added = await t.services.storageNodes.add({ node: 'big4', capacityBytes: 1024 * 1024 });
    expect(added.lifecycle).toBe('active');
    const rec = capacity.recommendation();
    expect(rec.nodes.find((n) => n.node === 'big4')).toMatchObject({ capacityBytes: 1024 * 1024, source: 'registered' });
    expect(rec.capacityBytes).toBe(300 * 1024 + 1024 * 1024);
    // 18% used, but growing 60 KiB a day: a month of growth keeps every node.
    expect(rec.action).toBe('no_action');
    expect(rec.reason).toMatch(/below 63\.0%, but removing even one node .*keeping room for 30/);
  });
});
