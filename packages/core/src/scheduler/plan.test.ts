import { describe, expect, it } from 'vitest';

import type { NodeState } from '../types.ts';
import { buildPlan, type PlanFile } from './plan.ts';

const NODES = ['zk1', 'zk2', 'zk3'];

/** Files for the given counts, newest first; names say where they were born so candidates are easy to check. */
function filesFor(counts: Record<string, number>): PlanFile[] {
  const out: PlanFile[] = [];
  let t = Date.parse('2026-01-01T00:00:00Z');
  for (const [node, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) {
      t += 1000;
      out.push({
        uuid: `${node}-${i}`,
        name: `demo-${node}-${i}.bin`,
        node,
        sizeBytes: 1024 * (i + 1),
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

describe('buildPlan: the seed worked example', () => {
  const cases = [
    { name: 'no drain', drained: [] as string[], source: 'zk1', target: 'zk3', delta: 8, reason: 'ok', candidate: 'zk1-11' },
    // zk3 is drained and still holds 4 files, so it is emptied first (the drained-source rule); the imbalance
    // against the new target zk2 is 12 - 5 = 7, as in the seed's example.
    { name: 'zk3 drained', drained: ['zk3'], source: 'zk3', target: 'zk2', delta: 7, reason: 'draining', candidate: 'zk3-3' },
  ];
  it.each(cases)('$name → $source to $target, delta $delta, migrate', ({ drained, source, target, delta, reason, candidate }) => {
    const plan = buildPlan({
      nodes: NODES,
      files: filesFor({ zk1: 12, zk2: 5, zk3: 4 }),
      nodeStates: drainedState(...drained),
      threshold: 5,
    });
    expect(plan.counts).toEqual({ zk1: 12, zk2: 5, zk3: 4 });
    expect(plan.sourceNode).toBe(source);
    expect(plan.targetNode).toBe(target);
    expect(plan.delta).toBe(delta);
    expect(plan.shouldMigrate).toBe(true);
    expect(plan.reason).toBe(reason);
    expect(plan.drainedNodes).toEqual(drained);
    expect(plan.totalFiles).toBe(21);
    expect(plan.threshold).toBe(5);
    // The candidate is the newest file on the source.
    expect(plan.candidate?.uuid).toBe(candidate);
    expect(plan.candidate).toMatchObject({ lastAction: 'created', historyLength: 1 });
    expect(plan.message).toContain(source);
    expect(plan.message).toContain(target);
  });

  it('lists drained nodes with their reason in nodeStates', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 12, zk2: 5, zk3: 4 }), nodeStates: drainedState('zk3'), threshold: 5 });
    expect(plan.nodeStates.zk3).toMatchObject({ drained: true, reason: 'maintenance' });
    expect(plan.nodeStates.zk1).toMatchObject({ drained: false, reason: null });
  });
});

describe('buildPlan: every reason', () => {
  it('no_files when the cluster is empty', () => {
    const plan = buildPlan({ nodes: NODES, files: [], nodeStates: [], threshold: 5 });
    expect(plan).toMatchObject({ reason: 'no_files', shouldMigrate: false, totalFiles: 0, candidate: null });
  });

  it('below_threshold says by how much, in words', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 6, zk2: 4, zk3: 3 }), nodeStates: [], threshold: 5 });
    expect(plan).toMatchObject({ reason: 'below_threshold', shouldMigrate: false, sourceNode: 'zk1', targetNode: 'zk3', delta: 3 });
    expect(plan.message).toBe('below threshold: zk1 has 3 more files than zk3, threshold 5');
  });

  it('migrates exactly at the threshold (delta >= threshold)', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 5, zk2: 0, zk3: 2 }), nodeStates: [], threshold: 5 });
    expect(plan).toMatchObject({ reason: 'ok', shouldMigrate: true, sourceNode: 'zk1', targetNode: 'zk2', delta: 5 });
  });

  it('the normal message names the gap', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 12, zk2: 5, zk3: 4 }), nodeStates: [], threshold: 5 });
    expect(plan.message).toBe('zk1 has 8 more files than zk3 (threshold 5): moving demo-zk1-11.bin');
  });

  it('no_target when no nodes are configured', () => {
    const plan = buildPlan({ nodes: [], files: filesFor({ zk1: 3 }), nodeStates: [], threshold: 1 });
    expect(plan.reason).toBe('no_target');
    expect(plan.shouldMigrate).toBe(false);
  });

  it('single_target when the only non-drained node is also the busiest', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 9 }), nodeStates: drainedState('zk2', 'zk3'), threshold: 5 });
    expect(plan).toMatchObject({ reason: 'single_target', sourceNode: 'zk1', targetNode: 'zk1', shouldMigrate: false });
  });

  it('no_candidate when every file on the source is already moving', () => {
    const files = filesFor({ zk1: 6 });
    const plan = buildPlan({ nodes: NODES, files, nodeStates: [], threshold: 5, excludeFiles: new Set(files.map((f) => f.uuid)) });
    expect(plan).toMatchObject({ reason: 'no_candidate', shouldMigrate: false, candidate: null, sourceNode: 'zk1' });
  });

  it('skips files already moving and picks the next newest', () => {
    const files = filesFor({ zk1: 6 });
    const plan = buildPlan({ nodes: NODES, files, nodeStates: [], threshold: 5, excludeFiles: new Set(['zk1-5']) });
    expect(plan.candidate?.uuid).toBe('zk1-4');
  });
});

describe('buildPlan: drained nodes', () => {
  it('empties a drained node first, even below the threshold, and never targets it', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 10, zk2: 2, zk3: 4 }), nodeStates: drainedState('zk2'), threshold: 5 });
    expect(plan).toMatchObject({ sourceNode: 'zk2', targetNode: 'zk3', reason: 'draining', shouldMigrate: true });
    expect(plan.candidate?.uuid).toBe('zk2-1');
  });

  it('when every node is drained, targets the node with the fewest files overall', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 10, zk2: 2, zk3: 4 }), nodeStates: drainedState(...NODES), threshold: 5 });
    expect(plan.sourceNode).toBe('zk1');
    expect(plan.targetNode).toBe('zk2');
    expect(plan.shouldMigrate).toBe(true);
  });

  it('a drained node that is already empty is not a source', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 3, zk2: 2 }), nodeStates: drainedState('zk3'), threshold: 5 });
    expect(plan).toMatchObject({ sourceNode: 'zk1', targetNode: 'zk2', reason: 'below_threshold' });
  });
});

describe('buildPlan: offline nodes', () => {
  it('never picks an offline node as target', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 12, zk2: 5, zk3: 0 }), nodeStates: [], threshold: 5, offlineNodes: ['zk3'] });
    expect(plan).toMatchObject({ sourceNode: 'zk1', targetNode: 'zk2', shouldMigrate: true, offlineNodes: ['zk3'] });
  });

  it('target_offline when the emptiest node is offline and the rest are balanced', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 8, zk2: 7 }), nodeStates: [], threshold: 5, offlineNodes: ['zk3'] });
    expect(plan.reason).toBe('target_offline');
  });

  it('source_offline when the busiest node is offline', () => {
    const plan = buildPlan({ nodes: NODES, files: filesFor({ zk1: 20, zk2: 2, zk3: 3 }), nodeStates: [], threshold: 5, offlineNodes: ['zk1'] });
    expect(plan.reason).toBe('source_offline');
    expect(plan.sourceNode).not.toBe('zk1');
  });
});
