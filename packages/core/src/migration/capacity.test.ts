import { describe, expect, it } from 'vitest';

import { AppError } from '../errors.ts';
import { DAY_MS, recommendCapacity, usageSlope, type CapacityNode, type UsagePoint } from './capacity.ts';

const GiB = 1024 ** 3;
const TiB = 1024 * GiB;
const NOW = Date.parse('2026-03-01T00:00:00Z');

/** `count` nodes of 1 TiB sharing `usedTiB` evenly. */
function cluster(count: number, usedTiB: number): CapacityNode[] {
  return Array.from({ length: count }, (_, i) => ({ node: `zk${i + 1}`, capacityBytes: TiB, usedBytes: (usedTiB / count) * TiB }));
}

/** Daily totals over the last `days` days, ending at `endBytes` today, changing by `perDay` bytes a day. */
function daily(days: number, endBytes: number, perDay: number): UsagePoint[] {
  return Array.from({ length: days + 1 }, (_, i) => ({ at: NOW - (days - i) * DAY_MS, usedBytes: endBytes - (days - i) * perDay }));
}

describe('usageSlope', () => {
  it('is the least-squares slope: exact on a line, the best fit through noise', () => {
    expect(usageSlope(daily(10, 100 * GiB, 5 * GiB)) * DAY_MS).toBeCloseTo(5 * GiB);
    const noisy = [0, 1, 2, 3].map((d) => ({ at: NOW + d * DAY_MS, usedBytes: [0, 12, 18, 30][d]! }));
    // x = 0..3, y = 0, 12, 18, 30: slope = Σ(x − 1.5)(y − 15) / Σ(x − 1.5)² = 48 / 5 = 9.6 per day
    expect(usageSlope(noisy) * DAY_MS).toBeCloseTo(9.6);
  });

  it('is 0 with fewer than two points or a single instant', () => {
    expect(usageSlope([])).toBe(0);
    expect(usageSlope([{ at: NOW, usedBytes: 5 }])).toBe(0);
    expect(usageSlope([{ at: NOW, usedBytes: 5 }, { at: NOW, usedBytes: 9 }])).toBe(0);
  });
});

describe('recommendCapacity: worked examples (target 70%, band ±10% of it → act outside 63%–77%)', () => {
  it('3 × 1 TiB at 90% → scale up by ⌈(2.7 / 0.7 − 3) / 1⌉ = 1 node → 67.5%', () => {
    const r = recommendCapacity({ nodes: cluster(3, 2.7), history: [], now: NOW });
    expect(r).toMatchObject({ action: 'scale_up', nodesToAdd: 1, nodesToRemove: 0, trend: 'stable', timeToTargetMs: null });
    expect(r.utilization).toBeCloseTo(0.9);
    expect(r.utilizationAfter).toBeCloseTo(0.675);
    expect(r.reason).toBe(
      'utilization 90.0% (2.7 TiB of 3.0 TiB) is above 77.0%: add 1 node of 1.0 TiB to bring it to 67.5%; not enough history for a trend',
    );
  });

  it('3 × 1 TiB at 96.7% (2.9 TiB) → ⌈(2.9 / 0.7 − 3)⌉ = ⌈1.14⌉ = 2 nodes → 58%', () => {
    const r = recommendCapacity({ nodes: cluster(3, 2.9), history: [], now: NOW });
    expect(r.nodesToAdd).toBe(2);
    expect(r.utilizationAfter).toBeCloseTo(0.58);
  });

  it('5 × 1 TiB at 25% → scale down by ⌊5 − 1.25 / 0.7⌋ = ⌊3.21⌋ = 3 nodes → 62.5%', () => {
    const r = recommendCapacity({ nodes: cluster(5, 1.25), history: daily(10, 1.25 * TiB, 0), now: NOW });
    expect(r).toMatchObject({ action: 'scale_down', nodesToAdd: 0, nodesToRemove: 3, trend: 'stable' });
    expect(r.utilizationAfter).toBeCloseTo(0.625);
    expect(r.reason).toBe(
      'utilization 25.0% (1.3 TiB of 5.0 TiB) is below 63.0%: remove 3 nodes of 1.0 TiB to bring it to 62.5%; usage is stable',
    );
  });

  it('5 × 1 TiB at 25% growing 20 GiB/day → keeps 30 days of growth: ⌊5 − (1.25 + 0.59) / 0.7⌋ = 2 nodes', () => {
    const r = recommendCapacity({ nodes: cluster(5, 1.25), history: daily(10, 1.25 * TiB, 20 * GiB), now: NOW });
    expect(r).toMatchObject({ action: 'scale_down', nodesToRemove: 2, trend: 'growing' });
    expect(r.reason).toMatch(/^utilization 25\.0% .* remove 2 nodes of 1\.0 TiB \(keeping room for 30 days of growth\) to bring it to 41\.7%; growing 20\.0 GiB\/day, crossing 77\.0% in /);
  });

  it('1 × 1 TiB at 5% → no action: the last node cannot be removed', () => {
    const r = recommendCapacity({ nodes: cluster(1, 0.05), history: [], now: NOW });
    expect(r).toMatchObject({ action: 'no_action', nodesToRemove: 0 });
    expect(r.reason).toBe('utilization 5.0% (51.2 GiB of 1.0 TiB) is below 63.0%, but the last node cannot be removed; not enough history for a trend');
  });

  it('2 × 1 TiB at 5% → remove 1 (⌊2 − 0.1 / 0.7⌋ = 1, and one must stay)', () => {
    const r = recommendCapacity({ nodes: cluster(2, 0.1), history: [], now: NOW });
    expect(r).toMatchObject({ action: 'scale_down', nodesToRemove: 1 });
    expect(r.utilizationAfter).toBeCloseTo(0.1);
  });

  it('4 × 1 TiB at 60% → below the band, but removing one node would give 80% > 70%: no action', () => {
    const r = recommendCapacity({ nodes: cluster(4, 2.4), history: [], now: NOW });
    expect(r.action).toBe('no_action');
    expect(r.reason).toMatch(/is below 63\.0%, but removing even one node of 1\.0 TiB would take it above the target/);
  });

  it('3 × 1 TiB at 70%, growing 10 GiB/day → no action, crossing 77% (2.31 TiB) in 0.21 TiB / 10 GiB ≈ 21.5 days', () => {
    const used = 2.1 * TiB;
    const r = recommendCapacity({ nodes: cluster(3, 2.1), history: daily(14, used, 10 * GiB), now: NOW });
    expect(r).toMatchObject({ action: 'no_action', trend: 'growing' });
    expect(r.growthBytesPerDay).toBeCloseTo(10 * GiB);
    expect(r.timeToTargetMs! / DAY_MS).toBeCloseTo((0.21 * 1024) / 10);
    expect(r.reason).toBe('utilization 70.0% (2.1 TiB of 3.0 TiB) is within 63.0%–77.0% (target 70.0% ± 10.0% of it); growing 10.0 GiB/day, crossing 77.0% in 21.5 days');
  });

  it('already past the upper edge and growing → timeToTarget 0', () => {
    const r = recommendCapacity({ nodes: cluster(3, 2.7), history: daily(5, 2.7 * TiB, 50 * GiB), now: NOW });
    expect(r.timeToTargetMs).toBe(0);
    expect(r.reason).toMatch(/; growing 50\.0 GiB\/day$/);
  });

  it('3 × 1 TiB at 70%, shrinking 40 GiB/day → trend shrinking, no time to target', () => {
    const r = recommendCapacity({ nodes: cluster(3, 2.1), history: daily(7, 2.1 * TiB, -40 * GiB), now: NOW });
    expect(r).toMatchObject({ action: 'no_action', trend: 'shrinking', timeToTargetMs: null });
    expect(r.growthBytesPerDay).toBeCloseTo(-40 * GiB);
    expect(r.reason).toMatch(/; shrinking 40\.0 GiB\/day$/);
  });

  it('growth under 0.1% of capacity per day (3 GiB of 3 TiB) counts as stable', () => {
    const r = recommendCapacity({ nodes: cluster(3, 2.1), history: daily(7, 2.1 * TiB, 2 * GiB), now: NOW });
    expect(r.trend).toBe('stable');
    expect(r.timeToTargetMs).toBeNull();
  });

  it('history points after now are ignored', () => {
    const history = [...daily(7, 2.1 * TiB, 0), { at: NOW + 10 * DAY_MS, usedBytes: 100 * TiB }];
    expect(recommendCapacity({ nodes: cluster(3, 2.1), history, now: NOW }).trend).toBe('stable');
  });

  it('target 50%, band 20% → act outside 40%–60%; a given node size of 512 GiB sizes the step', () => {
    const r = recommendCapacity({ nodes: cluster(2, 1.3), history: [], now: NOW, targetUtilization: 0.5, band: 0.2, nodeCapacityBytes: 512 * GiB });
    // 65% > 60%: (1.3 / 0.5 − 2) TiB = 0.6 TiB → ⌈1.2⌉ = 2 nodes of 0.5 TiB → 1.3 / 3 = 43.3%
    expect(r).toMatchObject({ action: 'scale_up', nodesToAdd: 2, nodeCapacityBytes: 512 * GiB });
    expect(r.upperUtilization).toBeCloseTo(0.6);
    expect(r.lowerUtilization).toBeCloseTo(0.4);
    expect(r.utilizationAfter).toBeCloseTo(1.3 / 3);
  });

  it('no capacity known → no action', () => {
    const r = recommendCapacity({ nodes: [], history: [], now: NOW });
    expect(r).toMatchObject({ action: 'no_action', reason: 'no node reports a capacity: nothing to plan' });
  });

  it('rejects a target outside (0, 1] or a band outside [0, 1) with BAD_INPUT', () => {
    expect(() => recommendCapacity({ nodes: [], history: [], now: NOW, targetUtilization: 0 })).toThrow(AppError);
    expect(() => recommendCapacity({ nodes: [], history: [], now: NOW, band: 1 })).toThrow(AppError);
  });
});
