/**
 * Whole-plan balancing. `buildPlan` (scheduler/plan.ts) decides one move per tick; this computes every move
 * needed to balance the cluster at once, so an operator sees the cost (files, bytes, which nodes) before
 * anything moves and the migration queue can run the moves under its caps. It also answers the scale-up and
 * scale-down questions: a new, empty node is simply the most-under target, and a node being retired is drained
 * (evacuated whatever the threshold).
 *
 * Strategies, each balancing one quantity toward a per-node share:
 * - `count`: files; every schedulable node's share is total / nodes (the seed's rule).
 * - `weighted`: files; each node's share is proportional to its `weight` (a bigger disk gets weight 2).
 * - `bytes`: bytes; equal shares.
 * - `utilization`: bytes; shares proportional to capacity, so every node ends near the same fill ratio.
 *
 * The threshold is how far from its share a node may stay; its unit depends on the strategy (see `tolerance`).
 * Unlike buildPlan's threshold (max − min before one move fires) it bounds every node's distance to its share.
 */
import { AppError } from '../errors.ts';
import { formatBytes, formatNumber, plural } from './format.ts';

export type StrategyName = 'count' | 'bytes' | 'utilization' | 'weighted';
export const STRATEGY_NAMES: readonly StrategyName[] = ['count', 'bytes', 'utilization', 'weighted'];

export interface BalanceNode {
  node: string;
  /** Drained nodes are emptied (every movable file leaves) and never receive files. */
  drained: boolean;
  /** Offline nodes are neither source nor target: their files stay where they are. */
  offline: boolean;
  /** Total capacity; null when unknown (no watermark then, and no place in the utilization strategy). */
  capacityBytes: number | null;
  /** Relative share for the `weighted` strategy; default 1, 0 means "hold nothing". */
  weight?: number;
}

/** The few fields of a file the planner needs; `PlanFile` (scheduler/plan.ts) satisfies it. */
export interface BalanceFile {
  uuid: string;
  name: string;
  node: string;
  sizeBytes: number;
  /** ISO timestamp or epoch milliseconds; the count strategies move the newest files first. */
  createdAt: string | number;
}

export interface PlannedMove {
  uuid: string;
  name: string;
  from: string;
  to: string;
  sizeBytes: number;
  /** Why this move, in words, with the numbers as they were just before it. */
  reason: string;
}

/** The unit of `target`, `tolerance` and the scores: files (count, weighted), bytes, or percent of capacity. */
export type BalanceUnit = 'files' | 'bytes' | 'percent';

export type BalanceRole = 'schedulable' | 'drained' | 'offline' | 'excluded';

export interface NodeBalance {
  node: string;
  /** `excluded`: the utilization strategy cannot place a node whose capacity is unknown. */
  role: BalanceRole;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Fractions 0–1 of capacity; null when the capacity is unknown. */
  utilizationBefore: number | null;
  utilizationAfter: number | null;
  /** The node's share of the balanced quantity, in `unit` (0 for drained nodes, null when not balanced). */
  target: number | null;
}

export interface WholePlan {
  strategy: StrategyName;
  unit: BalanceUnit;
  threshold: number;
  /** How far from its share a node may stay, in `unit` (for bytes: threshold × average file size). */
  tolerance: number;
  highWatermark: number;
  moves: PlannedMove[];
  bytesToMove: number;
  nodes: NodeBalance[];
  /**
   * Root-mean-square distance of the schedulable nodes from their shares, in `unit`; lower is better, 0 is
   * perfect. With equal shares (count, bytes) it is exactly the standard deviation of the quantity.
   */
  scoreBefore: number;
  scoreAfter: number;
  /** After the moves: every schedulable node within tolerance of its share and every drained node emptied. */
  balanced: boolean;
  /** Why some imbalance remains or some files stay put (offline nodes, watermarks, files in flight...). */
  blocked: string[];
}

export interface PlanMovesInput {
  strategy: StrategyName;
  nodes: readonly BalanceNode[];
  files: readonly BalanceFile[];
  /** files for count/weighted, average file sizes for bytes, percentage points for utilization. */
  threshold: number;
  /** Never fill a node past this fraction of its capacity (when known). Default 0.9. */
  highWatermark?: number;
  /** Files already being moved: they count where they are but are not picked again. */
  excludeFiles?: ReadonlySet<string>;
}

/** Floating-point slack for share arithmetic (shares are fractions of totals). */
const EPS = 1e-9;

/**
 * Files of one node sorted by size, with "the largest not yet taken at most x" and "the smallest not yet
 * taken above x" in near-constant time: two union-find arrays skip taken positions (path compression), so a
 * plan that takes 100,000 files never rescans the sorted array.
 */
class SizeIndex {
  readonly order: Int32Array;
  readonly sizes: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;

  /** `files` (file indices, ascending) is sorted in place. */
  constructor(files: Int32Array, size: Float64Array, positionOf: Int32Array) {
    const sorted = files.sort((a, b) => size[a]! - size[b]! || a - b);
    const m = sorted.length;
    this.order = sorted;
    this.sizes = new Float64Array(m);
    this.left = new Int32Array(m);
    this.right = new Int32Array(m + 1);
    for (let p = 0; p < m; p++) {
      const f = sorted[p]!;
      this.sizes[p] = size[f]!;
      this.left[p] = p;
      this.right[p] = p;
      positionOf[f] = p;
    }
    this.right[m] = m;
  }

  remove(p: number): void {
    this.left[p] = p - 1;
    this.right[p] = p + 1;
  }

  /** The file with the largest size ≤ x not yet taken, or -1. */
  largestAtMost(x: number): number {
    const p = this.findLeft(this.upperBound(x) - 1);
    return p < 0 ? -1 : this.order[p]!;
  }

  /** The file with the smallest size > x not yet taken, or -1. */
  smallestAbove(x: number): number {
    const p = this.findRight(this.upperBound(x));
    return p >= this.order.length ? -1 : this.order[p]!;
  }

  /** First position whose size is > x. */
  private upperBound(x: number): number {
    let lo = 0;
    let hi = this.sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sizes[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private findLeft(start: number): number {
    let r = start;
    while (r >= 0 && this.left[r] !== r) r = this.left[r]!;
    let i = start;
    while (i >= 0 && this.left[i] !== i) {
      const next = this.left[i]!;
      this.left[i] = r;
      i = next;
    }
    return r;
  }

  private findRight(start: number): number {
    let r = start;
    while (this.right[r] !== r) r = this.right[r]!;
    let i = start;
    while (this.right[i] !== i) {
      const next = this.right[i]!;
      this.right[i] = r;
      i = next;
    }
    return r;
  }
}

/** The decimal number written by `count` digits of `s` from `at`. */
function digits(s: string, at: number, count: number): number {
  let v = 0;
  for (let j = at; j < at + count; j++) v = v * 10 + (s.charCodeAt(j) - 48);
  return v;
}

/**
 * Epoch milliseconds of a creation time. The canonical `toISOString()` form (what the store writes) is read
 * digit by digit, several times faster than Date.parse over 100,000 files; anything else goes to Date.parse.
 */
function parseCreated(value: string | number): number {
  if (typeof value === 'number') return value;
  let t: number;
  if (value.length === 24 && value.charCodeAt(23) === 90 && value.charCodeAt(10) === 84 && value.charCodeAt(19) === 46) {
    const day = Date.UTC(digits(value, 0, 4), digits(value, 5, 2) - 1, digits(value, 8, 2));
    t = day + ((digits(value, 11, 2) * 60 + digits(value, 14, 2)) * 60 + digits(value, 17, 2)) * 1000 + digits(value, 20, 3);
  } else {
    t = Date.parse(value);
  }
  return Number.isNaN(t) ? -Infinity : t;
}

/**
 * Plans every move that balances the cluster under `strategy`. Rules:
 * - drained nodes are emptied first (into the most-under targets) and never receive files;
 * - offline nodes are left alone (their files stay; `blocked` says so) and take no files;
 * - no move fills a node past highWatermark × capacity (when the capacity is known);
 * - then, greedily, one file moves from the most-over node to the most-under node until every schedulable node
 *   is within tolerance of its share. count/weighted move the newest file (the seed's rule; the largest that fits
 *   when the newest would cross the watermark) and reach the minimum number of moves: the larger of the total
 *   excess above the upper bounds and the total shortfall below the lower bounds, with the bounds at
 *   ⌊share + threshold⌋ (at least ⌈share⌉) and ⌈share − threshold⌉ (at most ⌊share⌋). bytes/utilization move the
 *   file that best fits the gap (the largest not overshooting it, or the smallest above it when that lands closer)
 *   and only when the move strictly lowers the nodes' squared distance to their shares.
 * Each file moves at most once per plan. Cost: one or two sorts per source node, then O(moves × nodes) with
 * near-constant file picks (no quadratic step), so 100,000 files over 30 nodes plan well under a second.
 */
export function planMoves(input: PlanMovesInput): WholePlan {
  const { strategy, threshold } = input;
  const highWatermark = input.highWatermark ?? 0.9;
  if (!STRATEGY_NAMES.includes(strategy)) {
    throw new AppError('BAD_INPUT', `unknown balancing strategy "${String(strategy)}": expected one of ${STRATEGY_NAMES.join(', ')}`);
  }
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new AppError('BAD_INPUT', `threshold must be a number ≥ 0, got ${threshold}`);
  }
  if (!(highWatermark > 0 && highWatermark <= 1)) {
    throw new AppError('BAD_INPUT', `highWatermark must be in (0, 1], got ${highWatermark}`);
  }
  const byBytes = strategy === 'bytes' || strategy === 'utilization';
  const unit: BalanceUnit = strategy === 'bytes' ? 'bytes' : strategy === 'utilization' ? 'percent' : 'files';

  // ---- nodes ----
  const nodes: BalanceNode[] = [];
  const indexOf = new Map<string, number>();
  for (const n of input.nodes) {
    if (indexOf.has(n.node)) continue;
    const weight = n.weight ?? 1;
    if (!Number.isFinite(weight) || weight < 0) {
      throw new AppError('BAD_INPUT', `weight of ${n.node} must be a number ≥ 0, got ${weight}`);
    }
    indexOf.set(n.node, nodes.length);
    nodes.push(n);
  }
  const k = nodes.length;
  const capacity = nodes.map((n) => (n.capacityBytes !== null && n.capacityBytes > 0 ? n.capacityBytes : null));
  const role: BalanceRole[] = nodes.map((n, i) =>
    n.offline
      ? 'offline'
      : n.drained
        ? 'drained'
        : strategy === 'utilization' && capacity[i] === null
          ? 'excluded'
          : 'schedulable',
  );

  // ---- files ----
  const files = input.files;
  const n = files.length;
  const exclude = input.excludeFiles;
  const size = new Float64Array(n);
  const created = new Float64Array(n);
  const taken = new Uint8Array(n);
  const count = new Float64Array(k);
  const bytes = new Float64Array(k);
  const movable = new Int32Array(k);
  const movableBytes = new Float64Array(k);
  const inFlight = new Int32Array(k);
  const sourceOf = new Int32Array(n).fill(-1);
  const unknownNodes = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const f = files[i]!;
    const ni = indexOf.get(f.node);
    if (ni === undefined) {
      unknownNodes.set(f.node, (unknownNodes.get(f.node) ?? 0) + 1);
      taken[i] = 1;
      continue;
    }
    if (!Number.isFinite(f.sizeBytes) || f.sizeBytes < 0) {
      throw new AppError('BAD_INPUT', `file ${f.uuid} has an invalid size ${f.sizeBytes}`);
    }
    size[i] = f.sizeBytes;
    count[ni]! += 1;
    bytes[ni]! += f.sizeBytes;
    const r = role[ni];
    if (r !== 'schedulable' && r !== 'drained') {
      taken[i] = 1;
      continue;
    }
    if (exclude?.has(f.uuid) ?? false) {
      inFlight[ni]! += 1;
      taken[i] = 1;
      continue;
    }
    if (!byBytes) created[i] = parseCreated(f.createdAt);
    movable[ni]! += 1;
    movableBytes[ni]! += f.sizeBytes;
    sourceOf[i] = ni;
  }
  const countBefore = count.slice();
  const bytesBefore = bytes.slice();

  const sched: number[] = [];
  const drainedOnline: number[] = [];
  for (let i = 0; i < k; i++) {
    if (role[i] === 'schedulable') sched.push(i);
    else if (role[i] === 'drained') drainedOnline.push(i);
  }

  // ---- shares and tolerances ----
  // The balanced quantity, updated in place as moves are planned.
  const qv = byBytes ? bytes : count;
  const q = (i: number) => qv[i]!;
  let total = 0;
  let totalFiles = 0;
  let totalBytes = 0;
  for (const i of [...sched, ...drainedOnline]) {
    total += q(i);
    totalFiles += count[i]!;
    totalBytes += bytes[i]!;
  }
  const portion = new Float64Array(k);
  let portionSum = 0;
  for (const i of sched) {
    portion[i] = strategy === 'weighted' ? (nodes[i]!.weight ?? 1) : strategy === 'utilization' ? capacity[i]! : 1;
    portionSum += portion[i]!;
  }
  const general: string[] = [];
  if (sched.length > 0 && portionSum === 0) {
    general.push('every schedulable node has weight 0: no node can take files');
    sched.length = 0;
  }
  const share = new Float64Array(k);
  for (const i of sched) share[i] = (total * portion[i]!) / portionSum;

  const averageFileBytes = totalFiles > 0 ? totalBytes / totalFiles : 0;
  // `display` turns the balanced quantity into the plan's unit (percent of capacity for utilization).
  const display = (i: number) => (strategy === 'utilization' ? capacity[i]! / 100 : 1);
  const tolerance = strategy === 'bytes' ? threshold * averageFileBytes : threshold;
  const hi = new Float64Array(k);
  const lo = new Float64Array(k);
  for (const i of sched) {
    const s = share[i]!;
    if (byBytes) {
      const t = strategy === 'utilization' ? (threshold / 100) * capacity[i]! : tolerance;
      hi[i] = s + t;
      lo[i] = s - t;
    } else {
      hi[i] = Math.max(Math.ceil(s - EPS), Math.floor(s + threshold + EPS));
      lo[i] = Math.min(Math.floor(s + EPS), Math.ceil(s - threshold - EPS));
    }
  }
  const slack = byBytes ? Math.max(1e-6, total * 1e-12) : EPS;
  // Multiplying a node's distance to its share by invNorm gives files, bytes or a fraction of its capacity:
  // the measure of "most over" and "most under".
  const invNorm = new Float64Array(k);
  const limit = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const cap = capacity[i] ?? null;
    invNorm[i] = strategy === 'utilization' && cap !== null ? 1 / cap : 1;
    limit[i] = cap === null ? Infinity : highWatermark * cap;
  }
  const schedIdx = Int32Array.from(sched);
  const over = (i: number) => qv[i]! > hi[i]! + slack;
  const under = (i: number) => qv[i]! < lo[i]! - slack;
  const term = (i: number, value: number) => ((value - share[i]!) * invNorm[i]!) ** 2;
  const room = (i: number) => limit[i]! - bytes[i]!;

  // ---- per-source indexes: movable files grouped by node, each group sorted the first time it is a source ----
  const poolStart = new Int32Array(k + 1);
  for (let i = 0; i < k; i++) poolStart[i + 1] = poolStart[i]! + movable[i]!;
  const pool = new Int32Array(poolStart[k]!);
  const fill = poolStart.slice(0, k);
  for (let f = 0; f < n; f++) {
    const ni = sourceOf[f]!;
    if (ni >= 0) pool[fill[ni]!++] = f;
  }
  const untakenOf = (i: number) => pool.subarray(poolStart[i]!, poolStart[i + 1]!).filter((f) => taken[f] === 0);
  const positionOf = new Int32Array(n);
  const sizeIndexes: (SizeIndex | null)[] = new Array<SizeIndex | null>(k).fill(null);
  const sizeIndex = (i: number): SizeIndex => (sizeIndexes[i] ??= new SizeIndex(untakenOf(i), size, positionOf));
  const newest: (Int32Array | null)[] = new Array<Int32Array | null>(k).fill(null);
  const cursor = new Int32Array(k);
  const newestOf = (i: number) => {
    const list = (newest[i] ??= untakenOf(i).sort((a, b) => created[b]! - created[a]! || a - b));
    let c = cursor[i]!;
    while (c < list.length && taken[list[c]!] === 1) c++;
    cursor[i] = c;
    return c < list.length ? list[c]! : -1;
  };
  const smallestOf = (i: number) => sizeIndex(i).smallestAbove(-1);
  // Without any known capacity there is no watermark, and no need to know the smallest file a target can take.
  const anyLimit = sched.some((i) => Number.isFinite(limit[i]!));

  // ---- the greedy ----
  const moves: PlannedMove[] = [];
  let bytesToMove = 0;
  const closed = new Uint8Array(k);
  const closedWhy = new Map<number, string>();
  const close = (i: number, why: string | null) => {
    closed[i] = 1;
    if (why !== null && !closedWhy.has(i)) closedWhy.set(i, why);
  };
  const within = () => {
    for (let j = 0; j < schedIdx.length; j++) {
      const i = schedIdx[j]!;
      const v = qv[i]!;
      if (v > hi[i]! + slack || v < lo[i]! - slack) return false;
    }
    return true;
  };
  const wm = `the ${formatNumber(highWatermark * 100)}% high watermark`;

  for (;;) {
    // Evacuation first: the drained node with the most movable files.
    let s = -1;
    for (const i of drainedOnline) {
      if (closed[i] === 0 && movable[i]! > 0 && (s < 0 || movable[i]! > movable[s]!)) s = i;
    }
    const evacuating = s >= 0;
    if (!evacuating) {
      if (within()) break;
      let best = -Infinity;
      for (let j = 0; j < schedIdx.length; j++) {
        const i = schedIdx[j]!;
        if (closed[i] !== 0 || movable[i] === 0) continue;
        const d = (qv[i]! - share[i]!) * invNorm[i]!;
        if (d > best) {
          best = d;
          s = i;
        }
      }
      if (s < 0) break;
    }

    const minSize = anyLimit ? size[smallestOf(s)]! : 0;
    let t = -1;
    let least = Infinity;
    for (let j = 0; j < schedIdx.length; j++) {
      const i = schedIdx[j]!;
      if (i === s || limit[i]! - bytes[i]! < minSize) continue;
      const d = (qv[i]! - share[i]!) * invNorm[i]!;
      if (d < least) {
        least = d;
        t = i;
      }
    }
    if (t < 0) {
      if (evacuating) {
        const why = sched.length === 0 ? 'no node can take files (all are drained or offline)' : `no target has room below ${wm}`;
        const left = `${plural(movable[s]!, 'file')} (${formatBytes(movableBytes[s]!)})`;
        close(s, `${nodes[s]!.node} is drained but its remaining ${left} cannot move: ${why}`);
      } else {
        close(s, over(s) ? `${nodes[s]!.node} is ${amount(s, q(s) - share[s]!)} over its share, but no other node has room below ${wm}` : null);
      }
      continue;
    }

    const f = chooseFile(s, t, evacuating);
    if (f < 0) {
      close(
        s,
        !over(s)
          ? null
          : byBytes
            ? `${nodes[s]!.node} is ${amount(s, q(s) - share[s]!)} over its share, but each of its movable files would overshoot ${nodes[t]!.node}, the most-under node`
            : `${nodes[s]!.node} is ${amount(s, q(s) - share[s]!)} over its share, but every node with room below ${wm} is already at its share`,
      );
      continue;
    }

    const reason = describe(s, t, evacuating);
    const fileSize = size[f]!;
    taken[f] = 1;
    sizeIndexes[s]?.remove(positionOf[f]!);
    movable[s]! -= 1;
    movableBytes[s]! -= fileSize;
    count[s]! -= 1;
    bytes[s]! -= fileSize;
    count[t]! += 1;
    bytes[t]! += fileSize;
    bytesToMove += fileSize;
    const file = files[f]!;
    moves.push({ uuid: file.uuid, name: file.name, from: nodes[s]!.node, to: nodes[t]!.node, sizeBytes: fileSize, reason });
  }

  function chooseFile(s: number, t: number, evacuating: boolean): number {
    const roomT = room(t);
    if (!byBytes) {
      if (!evacuating && !((over(s) || under(t)) && count[s]! - 1 >= lo[s]! - EPS && count[t]! + 1 <= hi[t]! + EPS)) return -1;
      const f = newestOf(s);
      return size[f]! <= roomT ? f : sizeIndex(s).largestAtMost(roomT);
    }
    if (!evacuating && !(over(s) || under(t))) return -1;
    const want = evacuating ? share[t]! - bytes[t]! : Math.min(bytes[s]! - share[s]!, share[t]! - bytes[t]!);
    const upTo = Math.min(want, roomT);
    const index = sizeIndex(s);
    const a = index.largestAtMost(upTo);
    let b = index.smallestAbove(upTo);
    if (b >= 0 && size[b]! > roomT) b = -1;
    // A balancing move must strictly lower the squared distance; an evacuation takes the better of the two.
    const costA = a < 0 ? Infinity : moveCost(s, t, size[a]!, evacuating);
    const costB = b < 0 ? Infinity : moveCost(s, t, size[b]!, evacuating);
    const best = costA <= costB ? a : b;
    const bestCost = Math.min(costA, costB);
    return evacuating || bestCost < 0 ? best : -1;
  }

  /** How much a move of x bytes changes the squared distance to the shares (only the target's when evacuating). */
  function moveCost(s: number, t: number, x: number, evacuating: boolean): number {
    const onTarget = term(t, bytes[t]! + x) - term(t, bytes[t]!);
    return evacuating ? onTarget : onTarget + term(s, bytes[s]! - x) - term(s, bytes[s]!);
  }

  /** A distance in the strategy's words: "27 files", "1.1 GiB", "20.0 points". */
  function amount(i: number, value: number): string {
    if (strategy === 'utilization') return `${((value / capacity[i]!) * 100).toFixed(1)} points`;
    return byBytes ? formatBytes(value) : plural(value, 'file');
  }

  function describe(s: number, t: number, evacuating: boolean): string {
    const S = nodes[s]!.node;
    const T = nodes[t]!.node;
    const gapT = share[t]! - q(t);
    const targetPart =
      gapT > slack
        ? `${T} is ${strategy === 'utilization' ? `at ${pct(t)}, ` : ''}${amountPlain(t, gapT)} under`
        : `${T} is the least over its share`;
    if (evacuating) {
      return `${S} is drained and still holds ${plural(movable[s]!, 'file')} (${formatBytes(movableBytes[s]!)}); ${targetPart}`;
    }
    const overS = q(s) - share[s]!;
    if (strategy === 'utilization') {
      return `${S} is ${pct(s)} full, ${amountPlain(s, overS)} over its target ${((share[s]! / capacity[s]!) * 100).toFixed(1)}%; ${targetPart}`;
    }
    const holds = byBytes ? formatBytes(bytes[s]!) : plural(count[s]!, 'file');
    return `${S} holds ${holds}, ${amountPlain(s, overS)} over its share; ${targetPart}`;
  }

  function amountPlain(i: number, value: number): string {
    if (strategy === 'utilization') return `${((value / capacity[i]!) * 100).toFixed(1)} points`;
    return byBytes ? formatBytes(value) : formatNumber(value);
  }

  function pct(i: number): string {
    return `${((bytes[i]! / capacity[i]!) * 100).toFixed(1)}%`;
  }

  // ---- report ----
  const score = (quantity: (i: number) => number) => {
    if (sched.length === 0) return 0;
    let sum = 0;
    for (const i of sched) sum += ((quantity(i) - share[i]!) / display(i)) ** 2;
    return Math.sqrt(sum / sched.length);
  };
  const scoreBefore = score((i) => (byBytes ? bytesBefore[i]! : countBefore[i]!));
  const scoreAfter = score(q);

  // The smallest file still movable anywhere: a node with less room than that has reached the watermark.
  let smallestMovable = -1;
  const smallestAnywhere = () => {
    if (smallestMovable < 0) {
      smallestMovable = Infinity;
      for (let i = 0; i < k; i++) if (movable[i]! > 0) smallestMovable = Math.min(smallestMovable, size[smallestOf(i)]!);
      if (!Number.isFinite(smallestMovable)) smallestMovable = averageFileBytes;
    }
    return smallestMovable;
  };
  const blocked: string[] = [];
  for (let i = 0; i < k; i++) {
    const name = nodes[i]!.node;
    if (role[i] === 'offline') {
      blocked.push(
        count[i]! > 0
          ? `${name} is offline: its ${plural(count[i]!, 'file')} (${formatBytes(bytes[i]!)}) stay where they are and it takes no files until it returns`
          : `${name} is offline: it takes no files until it returns`,
      );
    } else if (role[i] === 'excluded') {
      blocked.push(`${name} has no known capacity: the utilization strategy leaves its ${plural(count[i]!, 'file')} in place and sends it none`);
    }
  }
  for (const [node, c] of unknownNodes) blocked.push(`${plural(c, 'file')} sit on ${node}, which is not a configured node: left alone`);
  blocked.push(...general);
  for (let i = 0; i < k; i++) {
    const why = closedWhy.get(i);
    if (why !== undefined) {
      blocked.push(why);
      continue;
    }
    const name = nodes[i]!.node;
    if (role[i] === 'drained' && count[i]! > 0) {
      blocked.push(`${name} is drained; its ${plural(count[i]!, 'file')} left are already being moved`);
    } else if (role[i] === 'schedulable' && over(i)) {
      blocked.push(
        inFlight[i]! > 0 && movable[i] === 0
          ? `${name} is ${amount(i, q(i) - share[i]!)} over its share, but all its files are already being moved`
          : `${name} ends ${amount(i, q(i) - share[i]!)} over its share: no file fits the gaps more closely`,
      );
    } else if (role[i] === 'schedulable' && under(i) && room(i) < smallestAnywhere()) {
      blocked.push(`${name} is ${amount(i, share[i]! - q(i))} under its share, but it has reached ${wm}`);
    }
  }

  const balanced = within() && drainedOnline.every((i) => movable[i] === 0);
  const nodesOut: NodeBalance[] = nodes.map((node, i) => {
    const cap = capacity[i] ?? null;
    return {
      node: node.node,
      role: role[i]!,
      countBefore: countBefore[i]!,
      countAfter: count[i]!,
      bytesBefore: bytesBefore[i]!,
      bytesAfter: bytes[i]!,
      utilizationBefore: cap === null ? null : bytesBefore[i]! / cap,
      utilizationAfter: cap === null ? null : bytes[i]! / cap,
      target: role[i] === 'drained' ? 0 : role[i] === 'schedulable' && sched.includes(i) ? share[i]! / display(i) : null,
    };
  });

  return {
    strategy,
    unit,
    threshold,
    tolerance,
    highWatermark,
    moves,
    bytesToMove,
    nodes: nodesOut,
    scoreBefore,
    scoreAfter,
    balanced,
    blocked,
  };
}
