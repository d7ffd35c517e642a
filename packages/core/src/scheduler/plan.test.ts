import { describe, expect, it } from 'vitest';

import type { NodeState } from '../types.ts';
import { buildPlan, type PlanFile } from './plan.ts';
import { planMoves, type BalanceNode } from './planner.ts';

const NODES = ['zk1', 'zk2', 'zk3'];
const MiB = 1024 * 1024;

/** Files for the given counts, newest first; names say where they were born so candidates are easy to check. */
function filesFor(counts: Record<string, number>, sizeOf: (node: string, i: number) => number = (_, i) => 1024 * (i + 1)): PlanFile[] {
  const out: PlanFile[] = [];
  let t = Date.parse('2026-01-01T00:00:00Z');
  for (const [node, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) {
      t += 1000;
      out.push({
        uuid: `${node}-${i}`,
        name: `demo-${node}-${i}.bin`,
        node,
        sizeBytes: sizeOf(node, i),
        createdAt: new Date(t).toISOString(),
        historyLength: 1,
        lastAction: 'created',
      });
    }
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

function drainedState(...nodes: string[]): NodeState[] {
  return nodes.map((node) => ({ node, drained: true, reason: 'maintenance', updatedAt: '2026-01-01T00:00:00.000Z' }));
}

const countsAfter = (files: readonly PlanFile[], moves: readonly { uuid: string; to: string }[]) => {
  const to = new Map(moves.map((m) => [m.uuid, m.to]));
  const c: Record<string, number> = {};
  for (const f of files) c[to.get(f.uuid) ?? f.node] = (c[to.get(f.uuid) ?? f.node] ?? 0) + 1;
  return c;
};

describe('the seed worked example: 12 / 5 / 4 files, threshold 5', () => {
  const files = filesFor({ zk1: 12, zk2: 5, zk3: 4 });

  it('diagnostics and plan agree: zk1 → zk3, delta 8, the newest file of zk1, three moves', () => {
    const d = buildPlan({ nodes: NODES, files, nodeStates: [], threshold: 5 });
    expect(d).toMatchObject({
      sourceNode: 'zk1',
      targetNode: 'zk3',
      delta: 8,
      threshold: 5,
      shouldMigrate: true,
      reason: 'ok',
      moves: 3,
      balanced: false,
      balancedAfter: true,
    });
    expect(d.candidate?.uuid).toBe('zk1-11');
    expect(d.message).toContain('moving demo-zk1-11.bin from zk1 to zk3');
    const plan = planMoves({
      strategy: 'count',
      nodes: NODES.map((node) => ({ node, drained: false, offline: false, capacityBytes: null })),
      files,
      threshold: 5,
    });
    expect(plan.moves[0]).toMatchObject({ uuid: 'zk1-11', from: 'zk1', to: 'zk3' });
    const after = countsAfter(files, plan.moves);
    expect(Math.max(...Object.values(after)) - Math.min(...Object.values(after))).toBeLessThan(5);
    // and once they are done, the same rule says "balanced": no move is due
    const again = buildPlan({
      nodes: NODES,
      files: files.map((f) => ({ ...f, node: plan.moves.find((m) => m.uuid === f.uuid)?.to ?? f.node })),
      nodeStates: [],
      threshold: 5,
    });
    expect(again).toMatchObject({ shouldMigrate: false, reason: 'below_threshold', candidate: null, moves: 0 });
  });

  it('explains every node: zk1 gives, zk3 receives, zk2 receives or stays within the threshold', () => {
    const d = buildPlan({ nodes: NODES, files, nodeStates: [], threshold: 5 });
    const byNode = Object.fromEntries(d.nodes.map((n) => [n.node, n]));
    expect(byNode.zk1).toMatchObject({ role: 'source', code: 'most_loaded', files: 12, movesOut: 3, filesAfter: 9 });
    expect(byNode.zk1!.reason).toContain('8 files above zk3');
    expect(byNode.zk3).toMatchObject({ role: 'target', code: 'least_loaded' });
    expect(byNode.zk2!.role === 'target' || byNode.zk2!.code === 'within_threshold').toBe(true);
  });

  it('with zk3 drained: zk3 is emptied first (reason draining), whatever the threshold', () => {
    const d = buildPlan({ nodes: NODES, files, nodeStates: drainedState('zk3'), threshold: 50 });
    expect(d).toMatchObject({ sourceNode: 'zk3', targetNode: 'zk2', reason: 'draining', shouldMigrate: true, moves: 4 });
    expect(d.nodes.find((n) => n.node === 'zk3')).toMatchObject({ role: 'source', code: 'drained', movesOut: 4, filesAfter: 0 });
    expect(d.drainedNodes).toEqual(['zk3']);
  });
});

describe('diagnostics: every reason', () => {
  it.each<{ name: string; counts: Record<string, number>; drained: string[]; offline: string[]; reason: string }>([
    { name: 'no files', counts: {}, drained: [] as string[], offline: [] as string[], reason: 'no_files' },
    { name: 'within the threshold', counts: { zk1: 6, zk2: 4, zk3: 3 }, drained: [], offline: [], reason: 'below_threshold' },
    { name: 'spread exactly at the threshold moves', counts: { zk1: 5, zk2: 0, zk3: 2 }, drained: [], offline: [], reason: 'ok' },
    { name: 'every node drained', counts: { zk1: 9 }, drained: NODES, offline: [], reason: 'no_target' },
    { name: 'every node offline', counts: { zk1: 9 }, drained: [], offline: NODES, reason: 'below_threshold' },
    { name: 'offline node not counted', counts: { zk1: 20, zk2: 2, zk3: 3 }, drained: [], offline: ['zk1'], reason: 'below_threshold' },
  ])('$name → $reason', ({ counts, drained, offline, reason }) => {
    const d = buildPlan({
      nodes: NODES,
      files: filesFor(counts),
      nodeStates: drainedState(...drained),
      threshold: 5,
      offlineNodes: offline,
    });
    expect(d.reason).toBe(reason);
    expect(d.shouldMigrate).toBe(reason === 'ok' || reason === 'draining');
    expect(d.message.length).toBeGreaterThan(10);
  });

  it('an offline node is explained and never a source or a target', () => {
    const d = buildPlan({
      nodes: NODES,
      files: filesFor({ zk1: 12, zk2: 5, zk3: 0 }),
      nodeStates: [],
      threshold: 5,
      offlineNodes: ['zk3'],
    });
    expect(d).toMatchObject({ sourceNode: 'zk1', targetNode: 'zk2', offlineNodes: ['zk3'] });
    expect(d.nodes.find((n) => n.node === 'zk3')).toMatchObject({ role: 'neither', code: 'offline', value: null });
  });

  it('files already moving are not picked: all of them → no_candidate', () => {
    const files = filesFor({ zk1: 12, zk2: 5, zk3: 4 });
    const d = buildPlan({
      nodes: NODES,
      files,
      nodeStates: [],
      threshold: 5,
      excludeFiles: new Set(files.filter((f) => f.node === 'zk1').map((f) => f.uuid)),
    });
    expect(d).toMatchObject({ reason: 'no_candidate', shouldMigrate: false });
    expect(d.nodes.find((n) => n.node === 'zk1')).toMatchObject({ code: 'all_in_flight' });
    const one = buildPlan({ nodes: NODES, files, nodeStates: [], threshold: 5, excludeFiles: new Set(['zk1-11']) });
    expect(one.candidate?.uuid).toBe('zk1-10');
  });

  it('a full target is skipped for one with room; with none left: watermark, and the node says why', () => {
    const files = filesFor({ zk1: 12, zk2: 5, zk3: 4 }, () => MiB);
    const capacityOf = (n: string) => (n === 'zk3' ? 4 * MiB : 100 * MiB);
    const d = buildPlan({ nodes: NODES, files, nodeStates: [], threshold: 5, capacityOf });
    expect(d.targetNode).toBe('zk2');
    expect(d.nodes.find((n) => n.node === 'zk3')).toMatchObject({ code: 'over_watermark', role: 'neither' });
    const full = buildPlan({ nodes: NODES, files, nodeStates: [], threshold: 5, capacityOf: (n) => (n === 'zk1' ? 100 * MiB : 5 * MiB) });
    expect(full).toMatchObject({ reason: 'watermark', shouldMigrate: false });
  });

  it('a source at its per-node cap says its moves wait', () => {
    const d = buildPlan({
      nodes: NODES,
      files: filesFor({ zk1: 12, zk2: 5, zk3: 4 }),
      nodeStates: [],
      threshold: 5,
      busy: { running: { zk1: { in: 0, out: 2 } }, maxPerNodeIn: 2, maxPerNodeOut: 2 },
    });
    expect(d.nodes.find((n) => n.node === 'zk1')).toMatchObject({ role: 'source', code: 'at_cap' });
  });
});

describe('the same rule in every unit', () => {
  const node = (name: string, extra: Partial<BalanceNode> = {}): BalanceNode => ({
    node: name,
    drained: false,
    offline: false,
    capacityBytes: null,
    ...extra,
  });

  it('weighted: files per unit of weight; weight 0 is emptied', () => {
    const files = filesFor({ zk1: 30 });
    const plan = planMoves({
      strategy: 'weighted',
      nodes: [node('zk1'), node('zk2', { weight: 2 }), node('zk3', { weight: 0 })],
      files: filesFor({ zk1: 30, zk3: 3 }),
      threshold: 2,
    });
    expect(plan.unit).toBe('files_per_weight');
    const a = plan.nodes.find((n) => n.node === 'zk1')!;
    const b = plan.nodes.find((n) => n.node === 'zk2')!;
    expect(Math.abs(a.valueAfter! - b.valueAfter!)).toBeLessThan(2);
    expect(plan.nodes.find((n) => n.node === 'zk3')).toMatchObject({ role: 'weight_zero', countAfter: 0 });
    expect(files.length).toBe(30);
  });

  it('bytes: the threshold counts average-sized files', () => {
    const files = filesFor({ zk1: 10, zk2: 0 }, () => MiB);
    const plan = planMoves({ strategy: 'bytes', nodes: [node('zk1'), node('zk2')], files, threshold: 3 });
    expect(plan.thresholdInUnit).toBe(3 * MiB);
    expect(plan.balanced).toBe(true);
    expect(plan.spreadAfter).toBeLessThan(3 * MiB);
    expect(plan.moves.length).toBe(4); // 10/0 → 6/4: spread 2 MiB < 3 MiB; 3 moves would leave 4 MiB
  });

  it('utilization: percent of capacity, the threshold in points', () => {
    const files = filesFor({ zk1: 40 }, () => MiB);
    const plan = planMoves({
      strategy: 'utilization',
      nodes: [node('zk1', { capacityBytes: 100 * MiB }), node('zk2', { capacityBytes: 200 * MiB }), node('zk3')],
      files,
      threshold: 5,
    });
    expect(plan.unit).toBe('percent');
    expect(plan.nodes.find((n) => n.node === 'zk3')!.role).toBe('no_capacity');
    expect(plan.spreadAfter).toBeLessThan(5);
    expect(plan.balanced).toBe(true);
  });

  it('bytes: a gap no single file can close is reported, not churned', () => {
    const files = [...filesFor({ zk1: 1 }, () => 100 * MiB), ...filesFor({ zk2: 1 }, () => MiB)];
    const plan = planMoves({ strategy: 'bytes', nodes: [node('zk1'), node('zk2')], files, threshold: 1 });
    expect(plan.moves).toEqual([]);
    expect(plan.balanced).toBe(false);
    expect(plan.nodes.find((n) => n.node === 'zk1')!.hold?.code).toBe('unreachable');
  });

  it('an empty cluster is balanced under every strategy (found by the property tests: bytes said "not balanced")', () => {
    for (const strategy of ['count', 'bytes', 'utilization', 'weighted'] as const) {
      const plan = planMoves({ strategy, nodes: [node('zk1', { capacityBytes: MiB })], files: [], threshold: 2 });
      expect({ strategy, balanced: plan.balanced, before: plan.balancedBefore }).toEqual({ strategy, balanced: true, before: true });
    }
  });

  it('refuses bad input with a clear error', () => {
    const base = { nodes: [node('zk1')], files: [] };
    expect(() => planMoves({ ...base, strategy: 'count', threshold: 0 })).toThrow(/threshold must be a number > 0/);
    expect(() => planMoves({ ...base, strategy: 'nope' as 'count', threshold: 1 })).toThrow(/unknown balancing strategy/);
    expect(() => planMoves({ ...base, strategy: 'count', threshold: 1, highWatermark: 1.5 })).toThrow(/highWatermark/);
    expect(() => planMoves({ nodes: [node('zk1', { weight: -1 })], files: [], strategy: 'weighted', threshold: 1 })).toThrow(
      /weight of zk1/,
    );
  });
});
