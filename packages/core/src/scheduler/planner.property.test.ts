/**
 * Properties of the one planner over random clusters (1-30 nodes, 0-5,000 files, random drains, offline nodes,
 * capacities, weights and thresholds), and minimality of `count` plans against brute force.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { isBalanced, normOf, STRATEGY_NAMES, thresholdInUnit, type StrategyName } from './balance.ts';
import { explainPlan } from './plan.ts';
import { planMoves, type BalanceFile, type BalanceNode, type PlanMovesInput, type WholePlan } from './planner.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

interface Cluster {
  nodes: BalanceNode[];
  files: BalanceFile[];
  threshold: number;
  highWatermark: number;
  inFlight: Set<string>;
}

/** A cluster from fast-check's draws: `counts[i]` files on node i, sizes from `sizes` (cycled). */
function buildCluster(d: {
  counts: number[];
  drained: boolean[];
  offline: boolean[];
  weights: number[];
  capacities: (number | null)[];
  sizes: number[];
  threshold: number;
  highWatermark: number;
  inFlightEvery: number;
}): Cluster {
  const nodes = d.counts.map((_, i) => ({
    node: `n${i + 1}`,
    drained: d.drained[i] ?? false,
    offline: d.offline[i] ?? false,
    weight: d.weights[i] ?? 1,
    capacityBytes: d.capacities[i] ?? null,
  }));
  const files: BalanceFile[] = [];
  const inFlight = new Set<string>();
  let id = 0;
  d.counts.forEach((c, i) => {
    for (let j = 0; j < c; j++, id++) {
      const uuid = `f${id}`;
      files.push({
        uuid,
        name: `file-${id}.bin`,
        node: `n${i + 1}`,
        sizeBytes: d.sizes[id % d.sizes.length]!,
        createdAt: T0 + ((id * 7919) % 100_003) * 1000,
      });
      if (d.inFlightEvery > 0 && id % d.inFlightEvery === 0) inFlight.add(uuid);
    }
  });
  return { nodes, files, threshold: d.threshold, highWatermark: d.highWatermark, inFlight };
}

const clusterArb = (
  opts: {
    maxNodes?: number;
    maxFilesPerNode?: number;
    maxTotalFiles?: number;
    capacities?: boolean;
    inFlight?: boolean;
    minThreshold?: number;
  } = {},
) =>
  fc
    .integer({ min: 1, max: opts.maxNodes ?? 30 })
    .chain((k) =>
      fc.record({
        counts: fc.array(
          fc.integer({
            min: 0,
            max: opts.maxTotalFiles !== undefined ? Math.floor(opts.maxTotalFiles / k) : (opts.maxFilesPerNode ?? 400),
          }),
          { minLength: k, maxLength: k },
        ),
        drained: fc.array(fc.boolean(), { minLength: k, maxLength: k }).map((a) => a.map((b, i) => b && i % 3 === 0)),
        offline: fc.array(fc.boolean(), { minLength: k, maxLength: k }).map((a) => a.map((b, i) => b && i % 4 === 1)),
        weights: fc.array(fc.constantFrom(0, 1, 1, 2, 3, 0.5), { minLength: k, maxLength: k }),
        capacities: fc.array(
          opts.capacities
            ? fc.option(
                fc.integer({ min: 1, max: 400 }).map((c) => c * 1024 * 1024),
                { nil: null },
              )
            : fc.constant(null),
          { minLength: k, maxLength: k },
        ),
        sizes: fc.array(fc.integer({ min: 1, max: 4 * 1024 * 1024 }), { minLength: 1, maxLength: 50 }),
        threshold: fc.integer({ min: opts.minThreshold ?? 1, max: 40 }),
        highWatermark: fc.constantFrom(0.5, 0.8, 0.9, 1),
        inFlightEvery: opts.inFlight ? fc.constantFrom(0, 3, 10) : fc.constant(0),
      }),
    )
    .map(buildCluster);

const inputOf = (c: Cluster, strategy: StrategyName): PlanMovesInput => ({
  strategy,
  nodes: c.nodes,
  files: c.files,
  threshold: c.threshold,
  highWatermark: c.highWatermark,
  excludeFiles: c.inFlight,
});

function apply(files: readonly BalanceFile[], plan: WholePlan): BalanceFile[] {
  const to = new Map(plan.moves.map((m) => [m.uuid, m.to]));
  return files.map((f) => ({ ...f, node: to.get(f.uuid) ?? f.node }));
}

/** Balance computed from scratch (not from the plan's own figures), by the rule of balance.ts. */
function balancedBy(strategy: StrategyName, c: Cluster, files: readonly BalanceFile[]): boolean {
  const q = new Map<string, number>();
  const movableLeft = new Map<string, number>();
  let countedFiles = 0;
  let countedBytes = 0;
  const counted = new Set(
    c.nodes.filter((n) => !n.offline && (n.drained || normOf(strategy, n) !== null || strategy === 'weighted')).map((n) => n.node),
  );
  for (const f of files) {
    q.set(f.node, (q.get(f.node) ?? 0) + (strategy === 'bytes' || strategy === 'utilization' ? f.sizeBytes : 1));
    if (counted.has(f.node)) {
      countedFiles++;
      countedBytes += f.sizeBytes;
    }
    if (!c.inFlight.has(f.uuid)) movableLeft.set(f.node, (movableLeft.get(f.node) ?? 0) + 1);
  }
  const values: number[] = [];
  let mustEmpty = 0;
  for (const n of c.nodes) {
    if (n.offline) continue;
    const norm = normOf(strategy, n);
    if (n.drained || (strategy === 'weighted' && norm === null)) mustEmpty += movableLeft.get(n.node) ?? 0;
    else if (norm !== null) values.push((q.get(n.node) ?? 0) / norm);
  }
  return isBalanced(values, thresholdInUnit(strategy, c.threshold, countedFiles > 0 ? countedBytes / countedFiles : 0), mustEmpty);
}

/** The fewest moves that balance a `count` cluster with no watermark and nothing in flight, by enumerating windows. */
function minimumCountMoves(c: Cluster): number | null {
  const sched = c.nodes.filter((n) => !n.offline && !n.drained);
  const counts = sched.map((n) => c.files.filter((f) => f.node === n.node).length);
  const evac = c.files.filter((f) => c.nodes.some((n) => n.node === f.node && n.drained && !n.offline)).length;
  if (sched.length === 0) return evac === 0 ? 0 : null;
  const total = counts.reduce((a, b) => a + b, 0) + evac;
  const w = c.threshold - 1; // spread < threshold ⇔ max − min ≤ threshold − 1 for whole files
  let best: number | null = null;
  for (let L = 0; L <= total; L++) {
    const U = L + w;
    if (sched.length * L > total || sched.length * U < total) continue;
    const outMin = counts.reduce((a, x) => a + Math.max(0, x - U), 0);
    const inMin = counts.reduce((a, x) => a + Math.max(0, L - x), 0);
    const out = Math.max(outMin, inMin - evac);
    if (best === null || out + evac < best) best = out + evac;
  }
  return best;
}

// Hundreds of random clusters per property: seconds on a busy CI machine, not the default 5 s budget.
describe('planner properties', { timeout: 120_000 }, () => {
  it('count: applying the plan balances the cluster, with exactly the fewest moves, and a re-plan moves nothing', () => {
    fc.assert(
      fc.property(clusterArb({ minThreshold: 2 }), (c) => {
        const plan = planMoves(inputOf(c, 'count'));
        const after = apply(c.files, plan);
        const reachable =
          c.nodes.some((n) => !n.offline && !n.drained) ||
          !c.nodes.some((n) => n.drained && !n.offline && c.files.some((f) => f.node === n.node));
        if (reachable) {
          expect(balancedBy('count', c, after)).toBe(true);
          expect(plan.balanced).toBe(true);
          expect(plan.moves.length).toBe(minimumCountMoves(c));
        }
        expect(planMoves({ ...inputOf(c, 'count'), files: after }).moves).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('count with threshold 1: the spread ends at 0 or 1, the least whole files allow', () => {
    fc.assert(
      fc.property(
        clusterArb({ maxNodes: 8 }).map((c) => ({ ...c, threshold: 1 })),
        (c) => {
          const plan = planMoves(inputOf(c, 'count'));
          expect(plan.spreadAfter).toBeLessThanOrEqual(1);
          expect(plan.balanced).toBe(balancedBy('count', c, apply(c.files, plan)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('weighted (weights ≥ 1), bytes (equal sizes) and utilization (small files, room everywhere) always reach balance', () => {
    fc.assert(
      fc.property(clusterArb({ minThreshold: 2 }), fc.integer({ min: 1, max: 4096 }), (c0, fileSize) => {
        const files = c0.files.map((f) => ({ ...f, sizeBytes: fileSize }));
        const total = files.length * fileSize;
        const reachable = c0.nodes.some((n) => !n.offline && !n.drained);
        const cases: [StrategyName, Cluster][] = [
          ['weighted', { ...c0, files, nodes: c0.nodes.map((n, i) => ({ ...n, weight: 1 + (i % 3) })) }],
          ['bytes', { ...c0, files }],
          // every file at most 1% of the smallest capacity, and every node able to hold everything
          [
            'utilization',
            {
              ...c0,
              files,
              highWatermark: 1,
              nodes: c0.nodes.map((n, i) => ({ ...n, capacityBytes: Math.max(total, 100 * fileSize) * (1 + (i % 3)) })),
            },
          ],
        ];
        for (const [strategy, c] of cases) {
          const plan = planMoves(inputOf(c, strategy));
          if (reachable)
            expect({ strategy, balanced: balancedBy(strategy, c, apply(c.files, plan)) }).toEqual({ strategy, balanced: true });
        }
      }),
      { numRuns: 150 },
    );
  });

  for (const strategy of STRATEGY_NAMES) {
    it(`${strategy}: when balance is not reached, the plan says why`, () => {
      fc.assert(
        fc.property(clusterArb({ capacities: true, inFlight: true }), (c) => {
          const plan = planMoves(inputOf(c, strategy));
          if (!plan.balanced) expect(plan.blocked.length + plan.nodes.filter((n) => n.hold !== null).length).toBeGreaterThan(0);
        }),
        { numRuns: 100 },
      );
    });
  }

  for (const strategy of STRATEGY_NAMES) {
    it(`${strategy}: the plan's own verdict matches the rule on the applied placement, and the rules are kept`, () => {
      fc.assert(
        fc.property(clusterArb({ capacities: true, inFlight: true }), (c) => {
          const plan = planMoves(inputOf(c, strategy));
          const after = apply(c.files, plan);
          expect(plan.balanced).toBe(balancedBy(strategy, c, after));
          expect(plan.balancedBefore).toBe(balancedBy(strategy, c, c.files));
          const byName = new Map(c.nodes.map((n) => [n.node, n]));
          const seen = new Set<string>();
          for (const m of plan.moves) {
            const from = byName.get(m.from)!;
            const to = byName.get(m.to)!;
            expect(from.offline || to.offline).toBe(false);
            expect(to.drained).toBe(false);
            if (strategy === 'weighted') expect(to.weight).toBeGreaterThan(0);
            expect(c.inFlight.has(m.uuid)).toBe(false);
            expect(seen.has(m.uuid)).toBe(false); // a file moves at most once per plan
            seen.add(m.uuid);
          }
          for (const n of plan.nodes) {
            const cap = byName.get(n.node)!.capacityBytes;
            if (n.movesIn > 0 && cap !== null) expect(n.bytesAfter).toBeLessThanOrEqual(c.highWatermark * cap + 1e-6);
          }
        }),
        { numRuns: 150 },
      );
    });

    it(`${strategy}: a balanced cluster plans no move, and the diagnostics never disagree with the plan`, () => {
      fc.assert(
        fc.property(clusterArb({ capacities: true, inFlight: true }), (c) => {
          const plan = planMoves(inputOf(c, strategy));
          if (balancedBy(strategy, c, c.files)) expect(plan.moves).toEqual([]);
          const d = explainPlan(plan, { nodeStates: [], fileByUuid: () => undefined });
          expect(d.shouldMigrate).toBe(plan.moves.length > 0);
          expect(d.candidate?.uuid ?? null).toBe(plan.moves[0]?.uuid ?? null);
          expect([d.sourceNode, d.targetNode]).toEqual([plan.moves[0]?.from ?? null, plan.moves[0]?.to ?? null]);
          expect(d.moves).toBe(plan.moves.length);
          expect(d.reason === 'ok' || d.reason === 'draining').toBe(plan.moves.length > 0);
          for (const n of d.nodes) {
            const p = plan.nodes.find((x) => x.node === n.node)!;
            expect(n.role).toBe(p.movesOut > p.movesIn ? 'source' : p.movesIn > 0 ? 'target' : 'neither');
            expect(n.reason.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it('5,000 files over 30 nodes plan (drawn at the upper bound of the range)', () => {
    fc.assert(
      fc.property(clusterArb({ maxTotalFiles: 5000, minThreshold: 2 }), (c) => {
        const plan = planMoves(inputOf(c, 'count'));
        expect(plan.moves.length).toBe(minimumCountMoves(c) ?? 0);
        expect(balancedBy('count', c, apply(c.files, plan))).toBe(
          c.nodes.some((n) => !n.offline && !n.drained) || minimumCountMoves(c) !== null,
        );
      }),
      { numRuns: 30 },
    );
  });
});

/** Fewest moves by breadth-first search over placements (files of a kind are interchangeable). */
function bruteForce(sched: number[], drained: number[], threshold: number): number {
  const start = [...sched, ...drained].join(',');
  const k = sched.length;
  const goal = (s: number[]) =>
    s.slice(k).every((x) => x === 0) && (k === 0 || Math.max(...s.slice(0, k)) - Math.min(...s.slice(0, k)) < threshold);
  const seen = new Set([start]);
  let frontier = [start];
  for (let depth = 0; depth < 64; depth++) {
    const next: string[] = [];
    for (const key of frontier) {
      const s = key.split(',').map(Number);
      if (goal(s)) return depth;
      for (let a = 0; a < s.length; a++) {
        if (s[a] === 0) continue;
        for (let b = 0; b < k; b++) {
          if (a === b) continue;
          const t = [...s];
          t[a]! -= 1;
          t[b]! += 1;
          const tk = t.join(',');
          if (!seen.has(tk)) {
            seen.add(tk);
            next.push(tk);
          }
        }
      }
    }
    frontier = next;
  }
  throw new Error('no plan within 64 moves');
}

describe('count plans against brute force', { timeout: 120_000 }, () => {
  it('the plan has exactly as many moves as the shortest sequence that balances, on every small cluster drawn', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 2 }),
        fc.integer({ min: 2, max: 6 }),
        (sched, drained, threshold) => {
          const nodes: BalanceNode[] = [
            ...sched.map((_, i) => ({ node: `s${i}`, drained: false, offline: false, capacityBytes: null })),
            ...drained.map((_, i) => ({ node: `d${i}`, drained: true, offline: false, capacityBytes: null })),
          ];
          const files: BalanceFile[] = [];
          [...sched, ...drained].forEach((c, i) => {
            for (let j = 0; j < c; j++)
              files.push({ uuid: `${i}-${j}`, name: `${i}-${j}`, node: nodes[i]!.node, sizeBytes: 1, createdAt: T0 + files.length });
          });
          const plan = planMoves({ strategy: 'count', nodes, files, threshold });
          expect(plan.moves.length).toBe(bruteForce(sched, drained, threshold));
        },
      ),
      { numRuns: 400 },
    );
  });
});
