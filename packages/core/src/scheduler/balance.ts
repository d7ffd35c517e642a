/**
 * The one definition of balance (the seed's rule), used by the planner, the diagnostics and the tests:
 *
 *   the cluster is balanced when the spread (max − min of each node's value, over the nodes that may hold
 *   files) is below the threshold, and no node that must be emptied (drained, or weight 0) still holds a
 *   file that can move.
 *
 * A node's value is measured in its strategy's unit:
 * - `count`: files;
 * - `weighted`: files per unit of weight (a node of weight 2 is "as full" as a node of weight 1 holding half);
 * - `bytes`: bytes, with the threshold counted in average-sized files (threshold × mean file size), so one
 *   setting reads the same for count and bytes: "5" means "about five files' worth";
 * - `utilization`: percent of the node's capacity, the threshold in percentage points.
 */

/** The balancing strategies; declared once, the zod schemas and the settings derive theirs from it. */
export const STRATEGY_NAMES = ['count', 'bytes', 'utilization', 'weighted'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** The unit of a node's value, of the spread and of the threshold: files, bytes, or percent of capacity. */
export type BalanceUnit = 'files' | 'bytes' | 'percent' | 'files_per_weight';

export const UNIT_OF: Readonly<Record<StrategyName, BalanceUnit>> = {
  count: 'files',
  weighted: 'files_per_weight',
  bytes: 'bytes',
  utilization: 'percent',
};

/** Strategies whose value is made of bytes (the others count files). */
export const byBytes = (strategy: StrategyName): boolean => strategy === 'bytes' || strategy === 'utilization';

/**
 * The divisor that turns a node's quantity (files or bytes) into its value: 1 for count and bytes, the weight
 * for weighted, capacity / 100 for utilization (so the value is a percentage). null: the node cannot take part
 * (weight 0, or a capacity the utilization strategy does not know).
 */
export function normOf(strategy: StrategyName, node: { weight?: number; capacityBytes: number | null }): number | null {
  if (strategy === 'weighted') {
    const w = node.weight ?? 1;
    return w > 0 ? w : null;
  }
  if (strategy === 'utilization') return node.capacityBytes !== null && node.capacityBytes > 0 ? node.capacityBytes / 100 : null;
  return 1;
}

/** The threshold in the strategy's unit: for bytes, `threshold` average-sized files. */
export function thresholdInUnit(strategy: StrategyName, threshold: number, meanFileBytes: number): number {
  return strategy === 'bytes' ? threshold * meanFileBytes : threshold;
}

/** max − min of the values (0 for fewer than two). */
export function spreadOf(values: ArrayLike<number>): number {
  if (values.length < 2) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
}

/**
 * Values are sums of file sizes divided by capacities: a spread that equals the threshold up to rounding must
 * not count as "below" on one call and "at" on the next, so comparisons leave this much room.
 */
const SLACK = 1e-9;

/**
 * The spread part of the rule: `spread` (in the unit) is below the threshold (in the unit). Level nodes are
 * balanced whatever the threshold (the bytes threshold is 0 when every file is empty).
 */
export function spreadBelow(spread: number, thresholdUnit: number): boolean {
  return spread <= 0 || spread < thresholdUnit - SLACK * Math.max(1, Math.abs(thresholdUnit));
}

/**
 * THE rule. `values`: the value of every node that may hold files; `mustEmpty`: how many movable files remain on
 * nodes that may not (drained, weight 0).
 */
export function isBalanced(values: ArrayLike<number>, thresholdUnit: number, mustEmpty = 0): boolean {
  return mustEmpty === 0 && spreadBelow(spreadOf(values), thresholdUnit);
}

/** A value in its unit, for messages: "12 files", "1.5 MiB", "42.0%", "3.5 files per weight". */
export function describeValue(unit: BalanceUnit, value: number, formatBytes: (b: number) => string): string {
  switch (unit) {
    case 'files':
      return `${round1(value)} file${value === 1 ? '' : 's'}`;
    case 'files_per_weight':
      return `${round1(value)} files per weight`;
    case 'bytes':
      return formatBytes(value);
    case 'percent':
      return `${value.toFixed(1)}%`;
  }
}

/** A distance in its unit ("8 files", "1.5 MiB", "12.0 points"). */
export function describeGap(unit: BalanceUnit, value: number, formatBytes: (b: number) => string): string {
  return unit === 'percent' ? `${value.toFixed(1)} points` : describeValue(unit, value, formatBytes);
}

function round1(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}
