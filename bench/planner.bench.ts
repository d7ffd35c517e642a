/**
 * Planner time: the one planner (planMoves) for every strategy over 100,000 files and 30 nodes, and the
 * diagnostics as served (placement index loaded from SQLite, plan, per-node explain), balanced and skewed, both
 * over the pure functions and through the scheduler service on a real ensemble.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { buildPlan, planMoves, STRATEGY_NAMES, type BalanceNode, type PlanFile } from '@zkha/core';
import { createDb, files, getNodeStates, insertFiles, listFilesForPlanning } from '@zkha/db';
import { FileIndex } from '@zkha/services';
import { createTestServices } from '@zkha/services/testing';

import { median, row, timeRuns } from './util.ts';

const base = Date.parse('2026-01-01T00:00:00Z');
/** n files, newest first (as the placement index serves them), placed by `nodeOf`, sizes 1-49 KiB. */
function syntheticFiles(n: number, nodeOf: (i: number) => string): PlanFile[] {
  return Array.from({ length: n }, (_, i) => ({
    uuid: `f-${i}`,
    name: `demo-${i}.bin`,
    node: nodeOf(i),
    sizeBytes: 1024 * (1 + (i % 49)),
    createdAt: new Date(base + (n - i) * 1000).toISOString(),
    historyLength: 1,
    lastAction: 'created',
  }));
}

/** A synthetic file as a database row (its path and checksum placeholders: the planner reads neither). */
function fileRow(f: PlanFile, now: string) {
  return {
    uuid: f.uuid,
    name: f.name,
    node: f.node,
    path: `/x/${f.node}/${f.name}`,
    sizeBytes: f.sizeBytes,
    sha256: '0'.repeat(64),
    createdAt: f.createdAt,
    updatedAt: now,
    history: [{ action: 'created' as const, node: f.node, at: f.createdAt }],
  };
}

const nodeNames = (k: number) => Array.from({ length: k }, (_, i) => `zk${i + 1}`);
const placements = {
  // All files on 3 of the 30 nodes: the worst case, ~90,000 moves.
  'skewed (all on 3 nodes)': (nodes: string[]) => (i: number) => nodes[i % 3]!,
  // Round robin: balanced, no move: what the diagnostics cost on a quiet cluster.
  balanced: (nodes: string[]) => (i: number) => nodes[i % nodes.length]!,
};

console.log('planMoves (pure, in memory), 100,000 files over 30 nodes, median of 15 runs (3 warm-up)');
console.log(
  "'plan' is the planning (what the diagnostics use); '+ list' also builds the list of move objects, which the plan makes on first read (a run or the API's answer)",
);
console.log(row(['placement', 'strategy', 'moves', 'plan median ms', 'plan min ms', 'plan max ms', 'plan + list median ms']));
console.log(row(['---', '---', '---', '---', '---', '---', '---']));
{
  const names = nodeNames(30);
  // Capacities of 10 GiB with 1-3 weights, so every strategy (and the watermark) has work to do.
  const nodes: BalanceNode[] = names.map((node, i) => ({
    node,
    drained: false,
    offline: false,
    capacityBytes: 10 * 2 ** 30,
    weight: 1 + (i % 3),
  }));
  for (const [label, place] of Object.entries(placements)) {
    const files = syntheticFiles(100_000, place(names));
    for (const strategy of STRATEGY_NAMES) {
      let moves = 0;
      const plan = timeRuns(() => {
        moves = planMoves({ strategy, nodes, files, threshold: 5 }).moveCount;
      }, 15);
      const listed = timeRuns(() => {
        moves = planMoves({ strategy, nodes, files, threshold: 5 }).moves.length;
      }, 15);
      console.log(
        row([
          label,
          strategy,
          moves,
          median(plan).toFixed(1),
          Math.min(...plan).toFixed(1),
          Math.max(...plan).toFixed(1),
          median(listed).toFixed(1),
        ]),
      );
    }
  }
}

console.log(
  '\nscheduler.diagnostics as served (in-memory placement index + plan + per-node explain, count strategy), and the index load at start-up (SQLite read)',
);
console.log(row(['files', 'nodes', 'placement', 'diagnostics median ms', 'start-up index load ms']));
console.log(row(['---', '---', '---', '---', '---']));
const dir = mkdtempSync(path.join(tmpdir(), 'zkha-bench-'));
try {
  for (const n of [10_000, 100_000]) {
    for (const k of [3, 30]) {
      for (const [label, place] of Object.entries(placements)) {
        const { db, close } = createDb(path.join(dir, `bench-${n}-${k}-${label.length}.db`));
        const nodes = nodeNames(k);
        const now = new Date().toISOString();
        insertFiles(
          db,
          syntheticFiles(n, place(nodes)).map((f) => fileRow(f, now)),
        );
        const index = new FileIndex();
        const load = timeRuns(() => index.load(listFilesForPlanning(db)), 3, 1);
        const served = timeRuns(() => buildPlan({ nodes, files: index.list(), nodeStates: getNodeStates(db, nodes), threshold: 5 }), 15);
        console.log(row([n, k, label.split(' ')[0]!, median(served).toFixed(2), median(load).toFixed(0)]));
        close();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// The service itself on a real ensemble and SQLite file: what `GET /api/scheduler/diagnostics` runs. Cold = the
// first call after the placement changed (plans); warm = nothing changed since (the plan is reused).
console.log('\nSchedulerService.diagnostics() on a real 3-node ensemble, 100,000 files in SQLite and the index, median of 15 calls');
console.log(row(['placement', 'cold ms (after a change)', 'warm ms (unchanged)', 'moves in the plan']));
console.log(row(['---', '---', '---', '---']));
{
  const t = await createTestServices({ scheduler: { threshold: 5, mode: 'whole_plan', enabled: false } });
  try {
    const { db, index, scheduler, config } = t.services;
    const onThree = { 'skewed (all on zk1)': (nodes: string[]) => () => nodes[0]!, balanced: placements.balanced };
    for (const [label, place] of Object.entries(onThree)) {
      const now = new Date().toISOString();
      db.delete(files).run();
      insertFiles(
        db,
        syntheticFiles(100_000, place([...config.nodes])).map((f) => fileRow(f, now)),
      );
      index.load(listFilesForPlanning(db));
      // A change before each cold call (one file moved, as a committed migration does), so the plan is made again.
      const probe = index.list()[0]!;
      const home = probe.node;
      let flip = false;
      const cold = timeRuns(
        () => {
          flip = !flip;
          index.move(probe.uuid, flip ? config.nodes.find((n) => n !== home)! : home, 'migrate');
          scheduler.diagnostics();
        },
        15,
        2,
      );
      const warm = timeRuns(() => scheduler.diagnostics(), 15);
      console.log(row([label.split(' ')[0]!, median(cold).toFixed(2), median(warm).toFixed(2), scheduler.diagnostics().moves]));
    }
  } finally {
    await t.close();
  }
}
