import { describe, expect, it } from 'vitest';

import { AppError } from '../errors.ts';
import {
  checkNodeRoom,
  DAY_MS,
  MIN_TREND_SPAN_MS,
  nodeCapacity,
  ownFilesystemNodes,
  recommendCapacity,
  usageSlope,
  type CapacityNode,
  type UsagePoint,
} from './capacity.ts';

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
    expect(
      usageSlope([
        { at: NOW, usedBytes: 5 },
        { at: NOW, usedBytes: 9 },
      ]),
    ).toBe(0);
  });
});

describe('recommendCapacity: worked examples (target 70%, band ±10% of it → act outside 63%–77%)', () => {
  it('3 × 1 TiB at 90% → scale up by ⌈(2.7 / 0.7 − 3) / 1⌉ = 1 node → 67.5%', () => {
    const r = recommendCapacity({ nodes: cluster(3, 2.7), history: [], now: NOW });
    expect(r).toMatchObject({ action: 'scale_up', nodesToAdd: 1, nodesToRemove: 0, trend: 'unknown', timeToTargetMs: null });
    expect(r.utilization).toBeCloseTo(0.9);
    expect(r.utilizationAfter).toBeCloseTo(0.675);
    expect(r.reason).toBe(
      'utilization 90.0% (2.7 TiB of 3.0 TiB) is above 77.0%: add 1 node of 1.0 TiB to bring it to 67.5%; not enough history for a trend (none of the 1 h needed)',
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
    expect(r.reason).toMatch(
      /^utilization 25\.0% .* remove 2 nodes of 1\.0 TiB \(keeping room for 30 days of growth\) to bring it to 41\.7%; growing 20\.0 GiB\/day, crossing 77\.0% in /,
    );
  });

  it('1 × 1 TiB at 5% → no action: the last node cannot be removed', () => {
    const r = recommendCapacity({ nodes: cluster(1, 0.05), history: daily(3, 0.05 * TiB, 0), now: NOW });
    expect(r).toMatchObject({ action: 'no_action', nodesToRemove: 0 });
    expect(r.reason).toBe('utilization 5.0% (51.2 GiB of 1.0 TiB) is below 63.0%, but the last node cannot be removed; usage is stable');
  });

  it('2 × 1 TiB at 5% → remove 1 (⌊2 − 0.1 / 0.7⌋ = 1, and one must stay)', () => {
    const r = recommendCapacity({ nodes: cluster(2, 0.1), history: daily(3, 0.1 * TiB, 0), now: NOW });
    expect(r).toMatchObject({ action: 'scale_down', nodesToRemove: 1 });
    expect(r.utilizationAfter).toBeCloseTo(0.1);
  });

  it('4 × 1 TiB at 60% → below the band, but removing one node would give 80% > 70%: no action', () => {
    const r = recommendCapacity({ nodes: cluster(4, 2.4), history: daily(3, 2.4 * TiB, 0), now: NOW });
    expect(r.action).toBe('no_action');
    expect(r.reason).toMatch(/is below 63\.0%, but removing even one node of 1\.0 TiB would take it above the target/);
  });

  it('3 × 1 TiB at 70%, growing 10 GiB/day → no action, crossing 77% (2.31 TiB) in 0.21 TiB / 10 GiB ≈ 21.5 days', () => {
    const used = 2.1 * TiB;
    const r = recommendCapacity({ nodes: cluster(3, 2.1), history: daily(14, used, 10 * GiB), now: NOW });
    expect(r).toMatchObject({ action: 'no_action', trend: 'growing' });
    expect(r.growthBytesPerDay).toBeCloseTo(10 * GiB);
    expect(r.timeToTargetMs! / DAY_MS).toBeCloseTo((0.21 * 1024) / 10);
    expect(r.reason).toBe(
      'utilization 70.0% (2.1 TiB of 3.0 TiB) is within 63.0%–77.0% (target 70.0% ± 10.0% of it); growing 10.0 GiB/day, crossing 77.0% in 21.5 days',
    );
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
    const r = recommendCapacity({
      nodes: cluster(2, 1.3),
      history: [],
      now: NOW,
      targetUtilization: 0.5,
      band: 0.2,
      nodeCapacityBytes: 512 * GiB,
    });
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

describe('recommendCapacity: a trend needs an hour of history, and removing nodes waits for it', () => {
  const MiB = 1024 ** 2;
  /** Samples every `stepMs` over `spanMs` ending now, growing at `perDay`. */
  const samples = (spanMs: number, stepMs: number, endBytes: number, perDay: number): UsagePoint[] =>
    Array.from({ length: Math.floor(spanMs / stepMs) + 1 }, (_, i) => {
      const back = spanMs - i * stepMs;
      return { at: NOW - back, usedBytes: endBytes - (perDay * back) / DAY_MS };
    });
  /** A fresh demo: three 1 GiB nodes holding a few MiB between them. */
  const demo: CapacityNode[] = ['zk1', 'zk2', 'zk3'].map((node) => ({ node, capacityBytes: GiB, usedBytes: 2 * MiB }));

  it.each([
    // [case, history, enoughHistory, action, reason ends with]
    [
      'no samples',
      [],
      false,
      'no_action',
      /removing nodes waits for 1 h of history; not enough history for a trend \(none of the 1 h needed\)$/,
    ],
    ['one sample', [{ at: NOW, usedBytes: 6 * MiB }], false, 'no_action', /\(none of the 1 h needed\)$/],
    [
      'five samples over four minutes, growing fast',
      samples(4 * 60_000, 60_000, 6 * MiB, 1.4 * GiB),
      false,
      'no_action',
      /\(4 min of the 1 h needed\)$/,
    ],
    ['59 minutes', samples(59 * 60_000, 60_000, 6 * MiB, 0), false, 'no_action', /\(59 min of the 1 h needed\)$/],
    ['an hour, flat', samples(MIN_TREND_SPAN_MS, 60_000, 6 * MiB, 0), true, 'scale_down', /; usage is stable$/],
  ] as const)('%s on a fresh demo (0.2%% used, below the band)', (_case, history, enough, action, reason) => {
    const r = recommendCapacity({ nodes: demo, history, now: NOW });
    expect(r.enoughHistory).toBe(enough);
    expect(r.action).toBe(action);
    expect(r.reason).toMatch(reason);
    // No trend before an hour: 'unknown' ("not enough history"), never 'stable', which the history rows showed.
    if (!enough) expect(r).toMatchObject({ nodesToRemove: 0, trend: 'unknown', growthBytesPerDay: 0, timeToTargetMs: null });
    else expect(r.trend).toBe('stable');
  });

  it('short history still advises adding nodes to a cluster past the band: being full is a fact, not a trend', () => {
    const r = recommendCapacity({ nodes: cluster(3, 2.7), history: samples(10 * 60_000, 60_000, 2.7 * TiB, 100 * GiB), now: NOW });
    expect(r).toMatchObject({ action: 'scale_up', nodesToAdd: 1, enoughHistory: false, trend: 'unknown' });
    expect(r.reason).toMatch(/not enough history for a trend \(10 min of the 1 h needed\)$/);
  });

  it('the span is configurable: two hours asked, one given → still no trend', () => {
    const r = recommendCapacity({
      nodes: demo,
      history: samples(MIN_TREND_SPAN_MS, 60_000, 6 * MiB, 0),
      now: NOW,
      minHistoryMs: 2 * MIN_TREND_SPAN_MS,
    });
    expect(r).toMatchObject({ action: 'no_action', enoughHistory: false, historySpanMs: MIN_TREND_SPAN_MS });
  });
});

describe('nodeCapacity: registered, else configured; its own filesystem can only lower it', () => {
  const MiB = 1024 ** 2;
  it.each([
    // [case, facts, capacityBytes, source]
    ['nothing stated', { registeredBytes: null, configuredBytes: null, usedBytes: 0, ownFilesystemFreeBytes: null }, null, 'unknown'],
    ['configured', { registeredBytes: null, configuredBytes: GiB, usedBytes: 0, ownFilesystemFreeBytes: null }, GiB, 'configured'],
    [
      'registered wins over configured',
      { registeredBytes: 2 * GiB, configuredBytes: GiB, usedBytes: 0, ownFilesystemFreeBytes: null },
      2 * GiB,
      'registered',
    ],
    [
      'own filesystem with room to spare',
      { registeredBytes: null, configuredBytes: GiB, usedBytes: 100 * MiB, ownFilesystemFreeBytes: 10 * GiB },
      GiB,
      'configured',
    ],
    [
      'own filesystem smaller: used + free',
      { registeredBytes: null, configuredBytes: GiB, usedBytes: 100 * MiB, ownFilesystemFreeBytes: 300 * MiB },
      400 * MiB,
      'filesystem',
    ],
    [
      'own filesystem, nothing configured',
      { registeredBytes: null, configuredBytes: null, usedBytes: MiB, ownFilesystemFreeBytes: 9 * MiB },
      10 * MiB,
      'filesystem',
    ],
  ] as const)('%s', (_case, facts, capacityBytes, source) => {
    expect(nodeCapacity(facts)).toEqual({ capacityBytes, source });
  });

  it.each([
    ['three folders on one disk', [252, 252, 252], []],
    ['each on its own disk', [100, 200, 300], ['a', 'b', 'c']],
    ['two share, one apart', [252, 252, 64], ['c']],
    ['one node', [252], ['a']],
    ['unknown sizes are never their own', [null, 64, null], ['b']],
  ] as const)('ownFilesystemNodes: %s', (_case, sizes, own) => {
    const reports = sizes.map((s, i) => ({ node: 'abc'[i]!, filesystemBytes: s === null ? null : s * GiB }));
    expect([...ownFilesystemNodes(reports)]).toEqual(own);
  });
});

describe('ownFilesystemNodes by filesystem identity', () => {
  it('two disks of the same size are told apart by their ids, and folders of one disk stay shared', () => {
    const reports = [
      { node: 'a', filesystemBytes: 100 * GiB, filesystemId: 'boot1:2049' },
      { node: 'b', filesystemBytes: 100 * GiB, filesystemId: 'boot1:2050' },
      { node: 'c', filesystemBytes: 500 * GiB, filesystemId: 'boot1:2051' },
      { node: 'd', filesystemBytes: 500 * GiB, filesystemId: 'boot1:2051' },
    ];
    expect([...ownFilesystemNodes(reports)]).toEqual(['a', 'b']);
  });
});

describe('checkNodeRoom: NODE_FULL with the figures', () => {
  const KiB = 1024;
  const MiB = 1024 * KiB;
  it.each([
    ['fits exactly', { capacityBytes: GiB, usedBytes: GiB - 128 * KiB, incomingBytes: 0, needBytes: 128 * KiB }, null],
    ['no capacity stated', { capacityBytes: null, usedBytes: 5 * GiB, incomingBytes: 0, needBytes: GiB }, null],
    [
      'full',
      { capacityBytes: GiB, usedBytes: GiB, incomingBytes: 0, needBytes: 128 * KiB },
      'zk2 is full: 1.0 GiB of 1.0 GiB used, the file needs 128 KiB',
    ],
    [
      'full counting what is arriving',
      { capacityBytes: GiB, usedBytes: 1000 * MiB, incomingBytes: 24 * MiB, needBytes: 128 * KiB },
      'zk2 is full: 1000 MiB of 1.0 GiB used and 24.0 MiB arriving, the file needs 128 KiB',
    ],
    [
      'room, but not enough',
      { capacityBytes: GiB, usedBytes: 10 * MiB, incomingBytes: 0, needBytes: 1.5 * GiB, files: 30 },
      'zk2 has too little room: 10.0 MiB of 1.0 GiB used, the 30 files need 1.5 GiB (1014 MiB left)',
    ],
    [
      'a streamed upload',
      { capacityBytes: GiB, usedBytes: GiB - 64 * KiB, incomingBytes: 0, needBytes: 128 * KiB, streamed: true },
      'zk2 is full: 1024 MiB of 1.0 GiB used, the file needs more than the 64.0 KiB left',
    ],
  ] as const)('%s', (_case, facts, message) => {
    const err = checkNodeRoom({ node: 'zk2', ...facts });
    if (message === null) return expect(err).toBeNull();
    expect(err).toBeInstanceOf(AppError);
    expect(err!.code).toBe('NODE_FULL');
    expect(err!.message).toBe(message);
    expect(err!.details).toMatchObject({ node: 'zk2', capacityBytes: facts.capacityBytes, needBytes: facts.needBytes });
  });
});
