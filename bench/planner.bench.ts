/** Planner time: the pure buildPlan over N files and K nodes, and diagnostics as served (SQLite read + plan). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { buildPlan, type NodeState, type PlanFile } from '@zkha/core';
import { createDb, getNodeStates, insertFiles, listFilesForPlanning } from '@zkha/db';
import { FileIndex } from '@zkha/services';

import { median, row, timeRuns } from './util.ts';

function syntheticFiles(n: number, nodes: string[]): PlanFile[] {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const out: PlanFile[] = [];
  for (let i = 0; i < n; i++) {
    // Skewed placement (half on the first node) so the planner has real work.
    const node = i % 2 === 0 ? nodes[0]! : nodes[i % nodes.length]!;
    out.push({ uuid: `f-${i}`, name: `demo-${i}.bin`, node, sizeBytes: 4096, createdAt: new Date(base + (n - i) * 1000).toISOString(), historyLength: 1, lastAction: 'created' });
  }
  return out;
}

const nodeNames = (k: number) => Array.from({ length: k }, (_, i) => `zk${i + 1}`);
const states = (nodes: string[]): NodeState[] => nodes.map((node, i) => ({ node, drained: i === 1, reason: i === 1 ? 'bench' : null, updatedAt: null }));

console.log('buildPlan (pure, in memory), median of 25 runs');
console.log(row(['files', 'nodes', 'median ms', 'min ms', 'max ms']));
console.log(row(['---', '---', '---', '---', '---']));
for (const n of [10_000, 100_000]) {
  for (const k of [3, 30]) {
    const nodes = nodeNames(k);
    const files = syntheticFiles(n, nodes);
    const st = states(nodes);
    const t = timeRuns(() => buildPlan({ nodes, files, nodeStates: st, threshold: 5 }), 25);
    console.log(row([n, k, median(t).toFixed(2), Math.min(...t).toFixed(2), Math.max(...t).toFixed(2)]));
  }
}

console.log('\nscheduler.diagnostics as served (in-memory placement index + buildPlan), and the index load at start-up (SQLite read)');
console.log(row(['files', 'nodes', 'diagnostics median ms', 'start-up index load ms']));
console.log(row(['---', '---', '---', '---']));
const dir = mkdtempSync(path.join(tmpdir(), 'zkha-bench-'));
try {
  for (const n of [10_000, 100_000]) {
    for (const k of [3, 30]) {
      const { db, close } = createDb(path.join(dir, `bench-${n}-${k}.db`));
      const nodes = nodeNames(k);
      const now = new Date().toISOString();
      insertFiles(
        db,
        syntheticFiles(n, nodes).map((f) => ({ uuid: f.uuid, name: f.name, node: f.node, path: `/x/${f.node}/${f.name}`, sizeBytes: f.sizeBytes, sha256: '0'.repeat(64), createdAt: f.createdAt, updatedAt: now, history: [{ action: 'created', node: f.node, at: f.createdAt }] })),
      );
      const index = new FileIndex();
      const load = timeRuns(() => index.load(listFilesForPlanning(db)), 5, 1);
      const served = timeRuns(() => buildPlan({ nodes, files: index.list(), nodeStates: getNodeStates(db, nodes), threshold: 5 }), 25);
      console.log(row([n, k, median(served).toFixed(2), median(load).toFixed(0)]));
      close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
