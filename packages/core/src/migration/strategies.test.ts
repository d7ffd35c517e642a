import { describe, expect, it } from 'vitest';

import { AppError } from '../errors.ts';
import type { PlanFile } from '../scheduler/plan.ts';
import { planMoves, type BalanceFile, type BalanceNode, type StrategyName, type WholePlan } from './strategies.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function node(name: string, extra: Partial<BalanceNode> = {}): BalanceNode {
  return { node: name, drained: false, offline: false, capacityBytes: null, ...extra };
}

/** Deterministic pseudo-random sizes so the byte strategies see uneven files. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Files per node; sizes either fixed or drawn between 1 and 100 MiB; creation one second apart. */
function filesFor(counts: Record<string, number>, sizeOf: (i: number) => number = () => MiB): BalanceFile[] {
  const out: BalanceFile[] = [];
  let t = T0;
  let n = 0;
  for (const [name, c] of Object.entries(counts)) {
    for (let i = 0; i < c; i++) {
      t += 1000;
      out.push({ uuid: `${name}-${i}`, name: `f-${name}-${i}.bin`, node: name, sizeBytes: sizeOf(n++), createdAt: new Date(t).toISOString() });
    }
  }
  return out;
}

const randomSizes = (seed: number) => {
  const r = rng(seed);
  return () => Math.floor(MiB + r() * 99 * MiB);
};

/** Applies a plan's moves to the files, as the migration queue would once every move completed. */
function apply(files: readonly BalanceFile[], plan: WholePlan): BalanceFile[] {
  const to = new Map(plan.moves.map((m) => [m.uuid, m.to]));
  return files.map((f) => ({ ...f, node: to.get(f.uuid) ?? f.node }));
}

function counts(files: readonly BalanceFile[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const f of files) c[f.node] = (c[f.node] ?? 0) + 1;
  return c;
}

/** The lower bound on moves for count-like strategies: max(total excess above ⌈share⌉-ish bounds, total shortfall). */
function minimumMoves(cs: number[], shares: number[], threshold: number): number {
  let excess = 0;
  let shortfall = 0;
  cs.forEach((c, i) => {
    const s = shares[i]!;
    const hi = Math.max(Math.ceil(s - 1e-9), Math.floor(s + threshold + 1e-9));
    const lo = Math.min(Math.floor(s + 1e-9), Math.ceil(s - threshold - 1e-9));
    excess += Math.max(0, c - hi);
    shortfall += Math.max(0, lo - c);
  });
  return Math.max(excess, shortfall);
}

const THREE = ['zk1', 'zk2', 'zk3'];

describe('planMoves: count', () => {
  it('1000 files on zk1 over 3 nodes, threshold 0 → 666 moves (excess over the ⌈333.3⌉ = 334 share), 334/333/333', () => {
    const files = filesFor({ zk1: 1000 });
    const plan = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files, threshold: 0 });
    expect(plan.moves).toHaveLength(666);
    expect(plan.nodes.map((n) => n.countAfter)).toEqual([334, 333, 333]);
    expect(plan.balanced).toBe(true);
    expect(plan.blocked).toEqual([]);
    expect(plan.nodes[0]!.target).toBeCloseTo(1000 / 3);
    expect(plan.bytesToMove).toBe(666 * MiB);
  });

  it('1000 files on zk1, threshold 5 → every node within 5 of 333.3, in exactly 662 moves', () => {
    const files = filesFor({ zk1: 1000 });
    const plan = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files, threshold: 5 });
    expect(plan.moves).toHaveLength(minimumMoves([1000, 0, 0], [1000 / 3, 1000 / 3, 1000 / 3], 5));
    expect(plan.moves).toHaveLength(662);
    for (const n of plan.nodes) expect(Math.abs(n.countAfter - 1000 / 3)).toBeLessThanOrEqual(5);
  });

  it.each([0, 1, 3, 10])('random skews over 7 nodes, threshold %i → the minimum number of moves, within threshold', (threshold) => {
    const r = rng(42 + threshold);
    for (let trial = 0; trial < 20; trial++) {
      const names = Array.from({ length: 7 }, (_, i) => `zk${i + 1}`);
      const c: Record<string, number> = {};
      for (const n of names) c[n] = Math.floor(r() * r() * 400);
      const files = filesFor(c);
      const plan = planMoves({ strategy: 'count', nodes: names.map((n) => node(n)), files, threshold });
      const total = files.length;
      expect(plan.moves).toHaveLength(minimumMoves(names.map((n) => c[n]!), names.map(() => total / 7), threshold));
      expect(plan.balanced).toBe(true);
      const after = counts(apply(files, plan));
      for (const n of names) {
        const d = (after[n] ?? 0) - total / 7;
        expect(d <= Math.max(threshold, Math.ceil(total / 7) - total / 7) + 1e-9).toBe(true);
        expect(-d <= Math.max(threshold, total / 7 - Math.floor(total / 7)) + 1e-9).toBe(true);
      }
    }
  });

  it('moves the newest files first, and says why in words', () => {
    const files = filesFor({ zk1: 40, zk2: 40, zk3: 20 });
    const plan = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files, threshold: 0 });
    // share 33.3 each: zk1 and zk2 fall to 34/33, zk3 rises to 33 → 13 moves, alternating (ties go by node order).
    expect(plan.moves.slice(0, 4).map((m) => m.uuid)).toEqual(['zk1-39', 'zk2-39', 'zk1-38', 'zk2-38']);
    expect(plan.moves).toHaveLength(13);
    expect(plan.moves[0]!.reason).toBe('zk1 holds 40 files, 6.7 over its share; zk3 is 13.3 under');
    expect(plan.moves.every((m) => m.to === 'zk3')).toBe(true);
  });

  it('a balanced cluster → zero moves, and re-planning after applying a plan → zero moves (idempotent)', () => {
    const balanced = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files: filesFor({ zk1: 34, zk2: 33, zk3: 33 }), threshold: 0 });
    expect(balanced.moves).toEqual([]);
    expect(balanced.balanced).toBe(true);
    expect(balanced.scoreBefore).toBe(balanced.scoreAfter);

    const files = filesFor({ zk1: 500, zk2: 3, zk3: 90 });
    const first = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files, threshold: 2 });
    const again = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files: apply(files, first), threshold: 2 });
    expect(again.moves).toEqual([]);
  });

  it('score is the standard deviation of file counts: 1000/0/0 → 471.4 files before, 0.47 after', () => {
    const plan = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files: filesFor({ zk1: 1000 }), threshold: 0 });
    expect(plan.unit).toBe('files');
    expect(plan.scoreBefore).toBeCloseTo(471.4, 1);
    expect(plan.scoreAfter).toBeCloseTo(0.471, 2);
    expect(plan.scoreAfter).toBeLessThan(plan.scoreBefore);
  });

  it('skips files already being moved (excludeFiles) but still counts them where they are', () => {
    const files = filesFor({ zk1: 10, zk2: 0, zk3: 0 });
    const excludeFiles = new Set(files.map((f) => f.uuid));
    const plan = planMoves({ strategy: 'count', nodes: THREE.map((n) => node(n)), files, threshold: 0, excludeFiles });
    expect(plan.moves).toEqual([]);
    expect(plan.balanced).toBe(false);
    expect(plan.blocked).toEqual(['zk1 is 6.7 files over its share, but all its files are already being moved']);
  });
});

describe('planMoves: drained nodes (scale-down)', () => {
  it('empties a drained node into the others even when the cluster is otherwise balanced', () => {
    const files = filesFor({ zk1: 10, zk2: 10, zk3: 10 });
    const nodes = [node('zk1'), node('zk2', { drained: true }), node('zk3')];
    const plan = planMoves({ strategy: 'count', nodes, files, threshold: 100 });
    expect(plan.moves).toHaveLength(10);
    expect(plan.moves.every((m) => m.from === 'zk2')).toBe(true);
    expect(plan.nodes.map((n) => n.countAfter)).toEqual([15, 0, 15]);
    expect(plan.nodes[1]).toMatchObject({ role: 'drained', target: 0 });
    expect(plan.moves[0]!.reason).toBe('zk2 is drained and still holds 10 files (10.0 MiB); zk1 is 5 under');
    expect(plan.balanced).toBe(true);
  });

  it('never sends files to a drained node, for every strategy', () => {
    for (const strategy of ['count', 'bytes', 'utilization', 'weighted'] as StrategyName[]) {
      const files = filesFor({ zk1: 300, zk2: 0, zk3: 0 }, randomSizes(7));
      const nodes = [node('zk1', { capacityBytes: 100 * GiB }), node('zk2', { drained: true, capacityBytes: 100 * GiB }), node('zk3', { capacityBytes: 100 * GiB })];
      const plan = planMoves({ strategy, nodes, files, threshold: 1 });
      expect(plan.moves.some((m) => m.to === 'zk2')).toBe(false);
      expect(plan.moves.length).toBeGreaterThan(0);
      expect(plan.balanced).toBe(true);
    }
  });

  it('a drained node whose files cannot fit anywhere below the watermark stays partly full, and says so', () => {
    const files = filesFor({ zk1: 10, zk2: 10 }, () => 10 * MiB);
    const nodes = [node('zk1', { capacityBytes: 200 * MiB }), node('zk2', { drained: true })];
    // zk1 holds 100 MiB of 200 MiB; the 90% watermark leaves 80 MiB: 8 files fit, 2 stay.
    const plan = planMoves({ strategy: 'count', nodes, files, threshold: 0 });
    expect(plan.moves).toHaveLength(8);
    expect(plan.nodes[0]!.bytesAfter).toBe(180 * MiB);
    expect(plan.balanced).toBe(false);
    expect(plan.blocked).toEqual([
      'zk1 is 2 files under its share, but it has reached the 90% high watermark',
      'zk2 is drained but its remaining 2 files (20.0 MiB) cannot move: no target has room below the 90% high watermark',
    ]);
  });
});

describe('planMoves: offline nodes', () => {
  it('leaves an offline node out: its files stay, it receives nothing, blocked says so', () => {
    const files = filesFor({ zk1: 60, zk2: 0, zk3: 30 });
    const nodes = [node('zk1'), node('zk2'), node('zk3', { offline: true })];
    const plan = planMoves({ strategy: 'count', nodes, files, threshold: 0 });
    expect(plan.moves.every((m) => m.from === 'zk1' && m.to === 'zk2')).toBe(true);
    expect(plan.moves).toHaveLength(30);
    expect(plan.nodes[2]).toMatchObject({ role: 'offline', countAfter: 30, target: null });
    expect(plan.blocked).toEqual(['zk3 is offline: its 30 files (30.0 MiB) stay where they are and it takes no files until it returns']);
    expect(plan.balanced).toBe(true);
  });

  it('an offline drained node is not evacuated', () => {
    const files = filesFor({ zk1: 5, zk2: 5 });
    const nodes = [node('zk1'), node('zk2', { offline: true, drained: true })];
    const plan = planMoves({ strategy: 'count', nodes, files, threshold: 0 });
    expect(plan.moves).toEqual([]);
    expect(plan.blocked[0]).toMatch(/^zk2 is offline/);
  });

  it('files on a node that is not configured are left alone and reported', () => {
    const files = filesFor({ zk1: 2, zk9: 3 });
    const plan = planMoves({ strategy: 'count', nodes: [node('zk1'), node('zk2')], files, threshold: 0 });
    expect(plan.moves).toHaveLength(1);
    expect(plan.blocked).toEqual(['3 files sit on zk9, which is not a configured node: left alone']);
  });
});

describe('planMoves: high watermark', () => {
  it('never fills a target past highWatermark × capacity, and reports the imbalance left', () => {
    // zk1 holds 100 × 1 MiB; zk2 and zk3 have 20 MiB each: at the 0.9 watermark they take 18 files each.
    const files = filesFor({ zk1: 100 });
    const nodes = [node('zk1'), node('zk2', { capacityBytes: 20 * MiB }), node('zk3', { capacityBytes: 20 * MiB })];
    const plan = planMoves({ strategy: 'count', nodes, files, threshold: 0 });
    expect(plan.nodes.map((n) => n.countAfter)).toEqual([64, 18, 18]);
    for (const n of plan.nodes.slice(1)) expect(n.bytesAfter).toBeLessThanOrEqual(0.9 * 20 * MiB);
    expect(plan.balanced).toBe(false);
    expect(plan.blocked).toEqual([
      'zk1 is 30.7 files over its share, but no other node has room below the 90% high watermark',
      'zk2 is 15.3 files under its share, but it has reached the 90% high watermark',
      'zk3 is 15.3 files under its share, but it has reached the 90% high watermark',
    ]);
  });

  it('picks a smaller file when the newest one would cross the watermark', () => {
    const files: BalanceFile[] = [
      { uuid: 'big', name: 'big', node: 'zk1', sizeBytes: 50 * MiB, createdAt: T0 + 2 },
      { uuid: 'small', name: 'small', node: 'zk1', sizeBytes: 1 * MiB, createdAt: T0 + 1 },
    ];
    const nodes = [node('zk1'), node('zk2', { capacityBytes: 10 * MiB })];
    const plan = planMoves({ strategy: 'count', nodes, files, threshold: 0 });
    expect(plan.moves.map((m) => m.uuid)).toEqual(['small']);
  });

  it('holds for every strategy under a random skew', () => {
    for (const strategy of ['count', 'bytes', 'utilization', 'weighted'] as StrategyName[]) {
      const files = filesFor({ zk1: 400, zk2: 50 }, randomSizes(3));
      const nodes = [node('zk1', { capacityBytes: 40 * GiB }), node('zk2', { capacityBytes: 8 * GiB }), node('zk3', { capacityBytes: 4 * GiB })];
      const plan = planMoves({ strategy, nodes, files, threshold: 1, highWatermark: 0.8 });
      for (const n of plan.nodes) {
        if (n.bytesAfter > n.bytesBefore) expect(n.bytesAfter).toBeLessThanOrEqual(0.8 * (nodes.find((x) => x.node === n.node)!.capacityBytes ?? 0));
      }
    }
  });
});

describe('planMoves: bytes', () => {
  it('1000 uneven files on zk1 → every node within threshold × average file size of its byte share', () => {
    const files = filesFor({ zk1: 1000 }, randomSizes(11));
    const plan = planMoves({ strategy: 'bytes', nodes: THREE.map((n) => node(n)), files, threshold: 1 });
    const total = files.reduce((s, f) => s + f.sizeBytes, 0);
    expect(plan.unit).toBe('bytes');
    expect(plan.tolerance).toBeCloseTo(total / 1000);
    expect(plan.balanced).toBe(true);
    for (const n of plan.nodes) expect(Math.abs(n.bytesAfter - total / 3)).toBeLessThanOrEqual(plan.tolerance);
    expect(plan.scoreAfter).toBeLessThan(plan.scoreBefore / 100);
    expect(plan.moves.every((m) => m.from === 'zk1')).toBe(true);
    expect(plan.moves[0]!.reason).toMatch(/^zk1 holds \d+\.\d GiB, \d+\.\d GiB over its share; zk2 is \d+\.\d GiB under$/);
  });

  it('best fit: closes a 500 MiB gap with five 100 MiB files rather than many small ones', () => {
    // zk1: 10 × 100 MiB + 100 × 1 MiB = 1100 MiB; zk2: 100 × 1 MiB. Shares 600 MiB each.
    const files = [
      ...filesFor({ zk1: 10 }, () => 100 * MiB),
      ...filesFor({ zk1: 100, zk2: 100 }, () => MiB).map((f) => ({ ...f, uuid: `s-${f.uuid}` })),
    ];
    const plan = planMoves({ strategy: 'bytes', nodes: [node('zk1'), node('zk2')], files, threshold: 1 });
    expect(plan.moves).toHaveLength(5);
    expect(plan.moves.every((m) => m.sizeBytes === 100 * MiB)).toBe(true);
    expect(plan.nodes.map((n) => n.bytesAfter)).toEqual([600 * MiB, 600 * MiB]);
    expect(plan.scoreAfter).toBe(0);
  });

  it('does not move a file that would overshoot: one 10 MiB file on zk1 against an empty zk2 stays', () => {
    const files = filesFor({ zk1: 1 }, () => 10 * MiB);
    const plan = planMoves({ strategy: 'bytes', nodes: [node('zk1'), node('zk2')], files, threshold: 0 });
    expect(plan.moves).toEqual([]);
    expect(plan.balanced).toBe(false);
    expect(plan.blocked).toEqual(['zk1 is 5.0 MiB over its share, but each of its movable files would overshoot zk2, the most-under node']);
  });

  it('idempotent: re-planning after applying the plan → zero moves', () => {
    const files = filesFor({ zk1: 700, zk2: 20, zk3: 100 }, randomSizes(5));
    const first = planMoves({ strategy: 'bytes', nodes: THREE.map((n) => node(n)), files, threshold: 0.5 });
    expect(first.balanced).toBe(true);
    expect(planMoves({ strategy: 'bytes', nodes: THREE.map((n) => node(n)), files: apply(files, first), threshold: 0.5 }).moves).toEqual([]);
  });
});

describe('planMoves: utilization', () => {
  it('fills nodes of 100, 200 and 100 GiB to the same ratio (within threshold percentage points)', () => {
    const files = filesFor({ zk1: 1000 }, randomSizes(21));
    const nodes = [node('zk1', { capacityBytes: 100 * GiB }), node('zk2', { capacityBytes: 200 * GiB }), node('zk3', { capacityBytes: 100 * GiB })];
    const plan = planMoves({ strategy: 'utilization', nodes, files, threshold: 2 });
    const total = files.reduce((s, f) => s + f.sizeBytes, 0);
    const cluster = (total / (400 * GiB)) * 100;
    expect(plan.unit).toBe('percent');
    expect(plan.balanced).toBe(true);
    for (const n of plan.nodes) {
      expect(n.target).toBeCloseTo(cluster);
      expect(Math.abs(n.utilizationAfter! * 100 - cluster)).toBeLessThanOrEqual(2);
    }
    expect(plan.nodes[1]!.bytesAfter).toBeGreaterThan(1.8 * plan.nodes[2]!.bytesAfter);
    expect(plan.scoreAfter).toBeLessThan(plan.scoreBefore);
    expect(plan.moves[0]!.reason).toMatch(/^zk1 is \d+\.\d% full, \d+\.\d points over its target \d+\.\d%; zk2 is at 0\.0%, \d+\.\d points under$/);
  });

  it('leaves a node of unknown capacity out and says why', () => {
    const files = filesFor({ zk1: 100, zk3: 5 });
    const nodes = [node('zk1', { capacityBytes: GiB }), node('zk2', { capacityBytes: GiB }), node('zk3')];
    const plan = planMoves({ strategy: 'utilization', nodes, files, threshold: 1 });
    expect(plan.moves.every((m) => m.to === 'zk2')).toBe(true);
    expect(plan.nodes[2]).toMatchObject({ role: 'excluded', target: null, countAfter: 5 });
    expect(plan.blocked).toEqual(['zk3 has no known capacity: the utilization strategy leaves its 5 files in place and sends it none']);
  });

  it('a cluster above the watermark cannot balance: zk2 (10 MiB) stops at 9 MiB, short of its 90.9% target', () => {
    // zk1: 100 MiB full of 100 × 1 MiB files; zk2: 10 MiB, empty. Cluster 100 / 110 = 90.9%, above the 90% watermark.
    const files = filesFor({ zk1: 100 });
    const nodes = [node('zk1', { capacityBytes: 100 * MiB }), node('zk2', { capacityBytes: 10 * MiB })];
    const plan = planMoves({ strategy: 'utilization', nodes, files, threshold: 0 });
    expect(plan.nodes[1]!.bytesAfter).toBe(9 * MiB);
    expect(plan.balanced).toBe(false);
    expect(plan.blocked).toEqual([
      'zk1 is 0.1 points over its share, but no other node has room below the 90% high watermark',
      'zk2 is 0.9 points under its share, but it has reached the 90% high watermark',
    ]);
  });

  it('utilization is weighted by capacity: a small node may end a little over rather than far under', () => {
    const files = filesFor({ zk1: 95 });
    const nodes = [node('zk1', { capacityBytes: 100 * MiB }), node('zk2', { capacityBytes: 10 * MiB })];
    const plan = planMoves({ strategy: 'utilization', nodes, files, threshold: 1 });
    expect(plan.nodes.map((n) => n.countAfter)).toEqual([86, 9]);
    expect(plan.scoreAfter).toBeLessThan(plan.scoreBefore);
    expect(plan.blocked).toEqual(['zk2 ends 3.6 points over its share: no file fits the gaps more closely']);
  });
});

describe('planMoves: weighted', () => {
  it('weights 1:2:1 → 1000 files end 250/500/250, in 750 moves', () => {
    const nodes = [node('zk1'), node('zk2', { weight: 2 }), node('zk3')];
    const plan = planMoves({ strategy: 'weighted', nodes, files: filesFor({ zk1: 1000 }), threshold: 0 });
    expect(plan.nodes.map((n) => n.countAfter)).toEqual([250, 500, 250]);
    expect(plan.nodes.map((n) => n.target)).toEqual([250, 500, 250]);
    expect(plan.moves).toHaveLength(750);
    expect(plan.scoreAfter).toBe(0);
  });

  it('weight 0 empties a node like a soft drain', () => {
    const nodes = [node('zk1', { weight: 0 }), node('zk2')];
    const plan = planMoves({ strategy: 'weighted', nodes, files: filesFor({ zk1: 7 }), threshold: 0 });
    expect(plan.nodes.map((n) => n.countAfter)).toEqual([0, 7]);
  });

  it('random skews with random weights reach the minimum number of moves', () => {
    const r = rng(99);
    for (let trial = 0; trial < 20; trial++) {
      const names = ['a', 'b', 'c', 'd', 'e'];
      const weights = names.map(() => 1 + Math.floor(r() * 4));
      const c: Record<string, number> = {};
      for (const n of names) c[n] = Math.floor(r() * 300);
      const files = filesFor(c);
      const nodes = names.map((n, i) => node(n, { weight: weights[i]! }));
      const plan = planMoves({ strategy: 'weighted', nodes, files, threshold: 1 });
      const sum = weights.reduce((a, b) => a + b, 0);
      expect(plan.moves).toHaveLength(minimumMoves(names.map((n) => c[n]!), weights.map((w) => (files.length * w) / sum), 1));
      expect(plan.balanced).toBe(true);
    }
  });
});

describe('planMoves: scale-up', () => {
  it('a new empty node is filled to its share from every other node', () => {
    const names = ['zk1', 'zk2', 'zk3', 'zk4'];
    const files = filesFor({ zk1: 100, zk2: 100, zk3: 100 });
    const plan = planMoves({ strategy: 'count', nodes: names.map((n) => node(n)), files, threshold: 0 });
    expect(plan.moves).toHaveLength(75);
    expect(plan.moves.every((m) => m.to === 'zk4')).toBe(true);
    expect(plan.nodes.map((n) => n.countAfter)).toEqual([75, 75, 75, 75]);
  });
});

describe('planMoves: inputs', () => {
  it('rejects a negative threshold, an unknown strategy and a watermark outside (0, 1] with BAD_INPUT', () => {
    const base = { nodes: [node('zk1')], files: [] };
    for (const bad of [
      () => planMoves({ ...base, strategy: 'count', threshold: -1 }),
      () => planMoves({ ...base, strategy: 'nope' as StrategyName, threshold: 1 }),
      () => planMoves({ ...base, strategy: 'count', threshold: 1, highWatermark: 1.5 }),
      () => planMoves({ nodes: [node('zk1', { weight: -1 })], files: [], strategy: 'weighted', threshold: 1 }),
    ]) {
      expect(bad).toThrow(AppError);
    }
  });

  it('accepts the scheduler’s PlanFile as is', () => {
    const files: PlanFile[] = [{ uuid: 'u', name: 'n', node: 'zk1', sizeBytes: 1, createdAt: '2026-01-01T00:00:00Z', historyLength: 1, lastAction: null }];
    expect(planMoves({ strategy: 'count', nodes: [node('zk1'), node('zk2')], files, threshold: 1 }).moves).toEqual([]);
  });

  it('createdAt as canonical ISO, offset ISO or epoch ms orders the same (newest evacuated first)', () => {
    const instants = [0, 999, Date.parse('2024-02-29T12:00:00.000Z'), Date.parse('2026-02-28T23:59:59.999Z'), Date.parse('1999-12-31T23:59:59.123Z')];
    const nodes = [node('zk1', { drained: true }), node('zk2')];
    const order = (write: (t: number) => string | number) =>
      planMoves({ strategy: 'count', nodes, threshold: 0, files: instants.map((t, i) => ({ uuid: `u${i}`, name: `n${i}`, node: 'zk1', sizeBytes: 1, createdAt: write(t) })) }).moves.map(
        (m) => m.uuid,
      );
    const expected = ['u3', 'u2', 'u4', 'u1', 'u0'];
    expect(order((t) => new Date(t).toISOString())).toEqual(expected);
    expect(order((t) => t)).toEqual(expected);
    expect(order((t) => new Date(t + 2 * 3_600_000).toISOString().replace('Z', '+02:00'))).toEqual(expected);
  });

  it('no files → nothing to do, balanced', () => {
    const plan = planMoves({ strategy: 'bytes', nodes: THREE.map((n) => node(n)), files: [], threshold: 1 });
    expect(plan).toMatchObject({ moves: [], balanced: true, scoreBefore: 0, scoreAfter: 0, bytesToMove: 0 });
  });
});

describe('planMoves: 100,000 files over 30 nodes (performance smoke test, correctness only)', () => {
  const names = Array.from({ length: 30 }, (_, i) => `zk${i + 1}`);
  const r = rng(2026);
  const files: BalanceFile[] = [];
  for (let i = 0; i < 100_000; i++) {
    // Two thirds of the files on zk1..zk3, the rest spread: a heavy skew.
    const home = r() < 0.66 ? names[i % 3]! : names[Math.floor(r() * 30)]!;
    files.push({ uuid: `f${i}`, name: `f${i}.bin`, node: home, sizeBytes: Math.floor(1 + r() * 10 * MiB), createdAt: T0 + i });
  }
  const nodes = names.map((n, i) => node(n, { capacityBytes: 1024 * GiB, drained: i === 29, weight: 1 + (i % 3) }));

  // No timing assertion; the generous timeout only keeps a loaded CI machine from failing a correct plan.
  it.each(['count', 'bytes', 'utilization', 'weighted'] as StrategyName[])('%s balances it', { timeout: 60_000 }, (strategy) => {
    const plan = planMoves({ strategy, nodes, files, threshold: 1 });
    expect(plan.balanced).toBe(true);
    expect(plan.scoreAfter).toBeLessThan(plan.scoreBefore);
    expect(plan.nodes[29]!.countAfter).toBe(0);
    expect(new Set(plan.moves.map((m) => m.uuid)).size).toBe(plan.moves.length);
    if (strategy === 'count') {
      const total = files.length;
      for (const n of plan.nodes.slice(0, 29)) expect(Math.abs(n.countAfter - total / 29)).toBeLessThanOrEqual(1);
    }
  });
});
