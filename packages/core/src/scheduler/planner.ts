/**
 * The one planner: every move that takes the cluster to "balanced" (see balance.ts), for every strategy, for
 * the automatic scheduler, `scheduler.run`, the diagnostics and the migrations dry run alike. The diagnostics'
 * candidate is this plan's first move, so what the console says and what the queue does cannot disagree.
 *
 * Rules:
 * - nodes that must be emptied (drained, or weight 0 under `weighted`) give every movable file, whatever the
 *   spread: draining is an operator's explicit request, the threshold (meant to avoid churn) does not hold it back;
 * - offline nodes are left alone: not counted, never a source or a target (and so is a node whose capacity the
 *   utilization strategy does not know);
 * - no move fills a node past highWatermark × capacity (when the capacity is known);
 * - files already being moved (`excludeFiles`) count where they are but are not picked again;
 * - then, while the spread reaches the threshold, one file moves from the node of highest value to the node of
 *   lowest value. count/weighted move the newest file (the seed's candidate); bytes/utilization the file whose
 *   size best closes the gap between the two. A move is made only if it narrows the pair's gap (it strictly
 *   lowers Σ quantity²/norm), so planning always ends, and every file moves at most once.
 * For `count` this reaches balance with the fewest moves possible (checked against brute force in the tests).
 */
import { AppError } from '../errors.ts';
import { formatBytes, formatNumber, plural } from '../migration/format.ts';
import {
  byBytes as isByBytes,
  describeGap,
  describeValue,
  isBalanced,
  normOf,
  spreadBelow,
  spreadOf,
  STRATEGY_NAMES,
  thresholdInUnit,
  UNIT_OF,
  type BalanceUnit,
  type StrategyName,
} from './balance.ts';
import { parseCreated, SizeIndex } from './file-order.ts';

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

/** The few fields of a file the planner needs. */
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

/**
 * - `schedulable`: may hold files; its value counts in the spread;
 * - `drained` / `weight_zero`: must be emptied, never a target;
 * - `offline` / `no_capacity`: left alone, not counted.
 */
export type BalanceRole = 'schedulable' | 'drained' | 'weight_zero' | 'offline' | 'no_capacity';

/** Why a node could not give or take more than it did (null: nothing held it back). */
export type HoldCode = 'all_in_flight' | 'over_watermark' | 'unreachable' | 'nowhere_to_go';

export interface NodeBalance {
  node: string;
  role: BalanceRole;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Fractions 0–1 of capacity; null when the capacity is unknown. */
  utilizationBefore: number | null;
  utilizationAfter: number | null;
  /** The node's value in the plan's unit; null for nodes not counted in the spread. */
  valueBefore: number | null;
  valueAfter: number | null;
  movesOut: number;
  movesIn: number;
  /** Files on it that are already being moved (counted, not picked). */
  inFlight: number;
  /** Set when the node cannot give or take what balance needs, with the words. */
  hold: { code: HoldCode; message: string } | null;
}

export interface WholePlan {
  strategy: StrategyName;
  unit: BalanceUnit;
  /** The setting as given (files; average file sizes for bytes; points for utilization). */
  threshold: number;
  /** The threshold in `unit`: the spread must stay below it. */
  thresholdInUnit: number;
  highWatermark: number;
  /**
   * Every move, in order. Built on first read (a plan of 90,000 moves is mostly the cost of these objects, and
   * the diagnostics never read them): use `moveCount` and `firstMove` when they are enough.
   */
  moves: PlannedMove[];
  moveCount: number;
  firstMove: PlannedMove | null;
  bytesToMove: number;
  nodes: NodeBalance[];
  /** max − min of the values of the schedulable nodes, in `unit`, before and after the moves. */
  spreadBefore: number;
  spreadAfter: number;
  /** The rule of balance.ts before and after the moves. */
  balancedBefore: boolean;
  balanced: boolean;
  /** Why some imbalance remains or some files stay put (offline nodes, watermarks, files in flight...). */
  blocked: string[];
}

export interface PlanMovesInput {
  strategy: StrategyName;
  nodes: readonly BalanceNode[];
  files: readonly BalanceFile[];
  /** See balance.ts for its unit per strategy. */
  threshold: number;
  /** Never fill a node past this fraction of its capacity (when known). Default 0.9. */
  highWatermark?: number;
  /** Files already being moved: they count where they are but are not picked again. */
  excludeFiles?: ReadonlySet<string>;
}

/** The default share of its capacity no move fills a node past. */
export const DEFAULT_HIGH_WATERMARK = 0.9;

function validate(input: PlanMovesInput): void {
  const { strategy, threshold } = input;
  const hw = input.highWatermark ?? DEFAULT_HIGH_WATERMARK;
  if (!STRATEGY_NAMES.includes(strategy)) {
    throw new AppError('BAD_INPUT', `unknown balancing strategy "${String(strategy)}": expected one of ${STRATEGY_NAMES.join(', ')}`);
  }
  if (!Number.isFinite(threshold) || threshold <= 0) {
    throw new AppError('BAD_INPUT', `threshold must be a number > 0, got ${threshold}`);
  }
  if (!(hw > 0 && hw <= 1)) throw new AppError('BAD_INPUT', `highWatermark must be in (0, 1], got ${hw}`);
  for (const n of input.nodes) {
    const w = n.weight ?? 1;
    if (!Number.isFinite(w) || w < 0) throw new AppError('BAD_INPUT', `weight of ${n.node} must be a number ≥ 0, got ${w}`);
  }
}

/** Plans every move that balances the cluster under `strategy` (rules at the top of this file). */
export function planMoves(input: PlanMovesInput): WholePlan {
  validate(input);
  const { strategy, threshold } = input;
  const highWatermark = input.highWatermark ?? DEFAULT_HIGH_WATERMARK;
  const bytesLike = isByBytes(strategy);
  const unit = UNIT_OF[strategy];

  // ---- nodes ----
  const nodes: BalanceNode[] = [];
  const indexOf = new Map<string, number>();
  for (const n of input.nodes) {
    if (indexOf.has(n.node)) continue;
    indexOf.set(n.node, nodes.length);
    nodes.push(n);
  }
  const k = nodes.length;
  const capacity = nodes.map((n) => (n.capacityBytes !== null && n.capacityBytes > 0 ? n.capacityBytes : null));
  const norm = new Float64Array(k).fill(1);
  const role: BalanceRole[] = nodes.map((n, i) => {
    if (n.offline) return 'offline';
    if (n.drained) return 'drained';
    const d = normOf(strategy, n);
    if (d === null) return strategy === 'weighted' ? 'weight_zero' : 'no_capacity';
    norm[i] = d;
    return 'schedulable';
  });
  const limit = new Float64Array(k);
  for (let i = 0; i < k; i++) limit[i] = capacity[i] === null ? Infinity : highWatermark * capacity[i]!;

  // ---- files: per-node totals, and each node's movable files in input order ----
  const files = input.files;
  const n = files.length;
  const exclude = input.excludeFiles;
  const size = new Float64Array(n);
  const count = new Float64Array(k);
  const bytes = new Float64Array(k);
  const movable = new Int32Array(k);
  const inFlight = new Int32Array(k);
  const nodeOf = new Int32Array(n).fill(-1);
  const unknownNodes = new Map<string, number>();
  for (let f = 0; f < n; f++) {
    const file = files[f]!;
    const i = indexOf.get(file.node);
    if (i === undefined) {
      unknownNodes.set(file.node, (unknownNodes.get(file.node) ?? 0) + 1);
      continue;
    }
    const s = file.sizeBytes;
    if (!(s >= 0) || s === Infinity) throw new AppError('BAD_INPUT', `file ${file.uuid} has an invalid size ${s}`);
    size[f] = s;
    count[i]! += 1;
    bytes[i]! += s;
    const r = role[i]!;
    if (r === 'offline' || r === 'no_capacity') continue;
    if (exclude !== undefined && exclude.size > 0 && exclude.has(file.uuid)) {
      inFlight[i]! += 1;
      continue;
    }
    movable[i]! += 1;
    nodeOf[f] = i;
  }
  const countBefore = count.slice();
  const bytesBefore = bytes.slice();

  const sched: number[] = [];
  const toEmpty: number[] = [];
  for (let i = 0; i < k; i++) {
    if (role[i] === 'schedulable') sched.push(i);
    else if (role[i] === 'drained' || role[i] === 'weight_zero') toEmpty.push(i);
  }
  let countedFiles = 0;
  let countedBytes = 0;
  for (const i of [...sched, ...toEmpty]) {
    countedFiles += count[i]!;
    countedBytes += bytes[i]!;
  }
  const meanFileBytes = countedFiles > 0 ? countedBytes / countedFiles : 0;
  const thr = thresholdInUnit(strategy, threshold, meanFileBytes);
  const q = bytesLike ? bytes : count;
  // Each node's value, kept in step by every move (the loop reads it for every node on every move).
  const vals = new Float64Array(k);
  for (let i = 0; i < k; i++) vals[i] = q[i]! / norm[i]!;
  const value = (i: number) => vals[i]!;
  const schedValues = () => sched.map(value);
  const movableLeftToEmpty = () => toEmpty.reduce((a, i) => a + movable[i]!, 0);
  const spreadBefore = spreadOf(schedValues());
  const balancedBefore = isBalanced(schedValues(), thr, movableLeftToEmpty());

  // ---- lazy per-source indexes ----
  let poolStart: Int32Array | null = null;
  let pool: Int32Array | null = null;
  const taken = new Uint8Array(n);
  const untakenOf = (i: number): Int32Array => {
    if (pool === null || poolStart === null) {
      poolStart = new Int32Array(k + 1);
      for (let j = 0; j < k; j++) poolStart[j + 1] = poolStart[j]! + movable[j]!;
      pool = new Int32Array(poolStart[k]!);
      const fill = poolStart.slice(0, k);
      for (let f = 0; f < n; f++) {
        const j = nodeOf[f]!;
        if (j >= 0) pool[fill[j]!++] = f;
      }
    }
    // A plain loop: TypedArray.prototype.filter is several times slower over 100,000 files.
    const from = poolStart[i]!;
    const to = poolStart[i + 1]!;
    const out = new Int32Array(to - from);
    let c = 0;
    for (let p = from; p < to; p++) if (taken[pool[p]!] === 0) out[c++] = pool[p]!;
    return c === out.length ? out : out.slice(0, c);
  };
  const positionOf = new Int32Array(n);
  const sizeIndexes: (SizeIndex | null)[] = new Array<SizeIndex | null>(k).fill(null);
  const sizeIndex = (i: number): SizeIndex => (sizeIndexes[i] ??= new SizeIndex(untakenOf(i), size, positionOf));
  const newest: (Int32Array | null)[] = new Array<Int32Array | null>(k).fill(null);
  const cursor = new Int32Array(k);
  const newestOf = (i: number): number => {
    let list = newest[i];
    if (list == null) {
      list = untakenOf(i);
      const created = new Float64Array(list.length);
      let sorted = true;
      for (let p = 0; p < list.length; p++) {
        created[p] = parseCreated(files[list[p]!]!.createdAt);
        if (p > 0 && created[p]! > created[p - 1]!) sorted = false;
      }
      // The file index hands files over newest first: then there is nothing to sort.
      if (!sorted) {
        const at = new Map<number, number>();
        for (let p = 0; p < list.length; p++) at.set(list[p]!, created[p]!);
        list.sort((a, b) => at.get(b)! - at.get(a)! || a - b);
      }
      newest[i] = list;
    }
    let c = cursor[i]!;
    while (c < list.length && taken[list[c]!] === 1) c++;
    cursor[i] = c;
    return c < list.length ? list[c]! : -1;
  };
  const smallestOf = (i: number) => sizeIndex(i).smallestAbove(-1);
  const anyLimit = sched.some((i) => Number.isFinite(limit[i]!));
  const room = (i: number) => limit[i]! - bytes[i]!;

  // ---- the greedy ----
  // The moves, packed: file, source and target indices and the reason's index in `reasonList`.
  const moveFile = new Int32Array(n);
  const moveFrom = new Int32Array(n);
  const moveTo = new Int32Array(n);
  const moveWhy = new Int32Array(n);
  const reasonList: string[] = [];
  let moveCount = 0;
  const movesOut = new Int32Array(k);
  const movesIn = new Int32Array(k);
  let bytesToMove = 0;
  const hold: (NodeBalance['hold'] | null)[] = new Array<NodeBalance['hold'] | null>(k).fill(null);
  const closed = new Uint8Array(k);
  const wm = `the ${formatNumber(highWatermark * 100)}% high watermark`;
  const val = (i: number) => describeValue(unit, value(i), formatBytes);
  const gap = (x: number) => describeGap(unit, x, formatBytes);
  const thrWords = `threshold ${gap(thr)}`;

  // One reason per pair of nodes, in the figures of the pair's first move: a plan of 100,000 moves would
  // otherwise spend most of its time building (and collecting) 100,000 strings that say nearly the same.
  const reasonOfPair = new Int32Array(k * k).fill(-1);
  const pairReason = (s: number, t: number, words: (s: number, t: number) => string): number => {
    const key = s * k + t;
    if (reasonOfPair[key] === -1) reasonOfPair[key] = reasonList.push(words(s, t)) - 1;
    return reasonOfPair[key]!;
  };
  const move = (f: number, s: number, t: number, reason: number) => {
    const x = size[f]!;
    taken[f] = 1;
    sizeIndexes[s]?.remove(positionOf[f]!);
    movable[s]! -= 1;
    count[s]! -= 1;
    bytes[s]! -= x;
    count[t]! += 1;
    bytes[t]! += x;
    movesOut[s]! += 1;
    movesIn[t]! += 1;
    vals[s] = q[s]! / norm[s]!;
    vals[t] = q[t]! / norm[t]!;
    bytesToMove += x;
    moveFile[moveCount] = f;
    moveFrom[moveCount] = s;
    moveTo[moveCount] = t;
    moveWhy[moveCount] = reason;
    moveCount++;
  };

  const evacuationReason = (s: number, t: number) =>
    `${nodes[s]!.node} ${role[s] === 'drained' ? 'is drained' : 'has weight 0'} and held ${plural(movable[s]!, 'movable file')}; ${nodes[t]!.node} was the emptiest node with room (${val(t)})`;
  const balancingReason = (s: number, t: number) =>
    `${nodes[s]!.node} holds ${val(s)} and ${nodes[t]!.node} ${val(t)}: ${gap(value(s) - value(t))} apart, at or over the ${thrWords}`;

  /** The schedulable node (≠ s) of lowest value with room for `need` bytes; ties go to the first configured. */
  const lowestWithRoom = (s: number, need: number): number => {
    let t = -1;
    let least = Infinity;
    for (const i of sched) {
      if (i === s || (anyLimit && room(i) < need)) continue;
      const v = value(i);
      if (v < least) {
        least = v;
        t = i;
      }
    }
    return t;
  };

  // Evacuation: nodes that must be emptied give every movable file, the fullest first.
  for (;;) {
    let s = -1;
    for (const i of toEmpty) if (closed[i] === 0 && movable[i]! > 0 && (s < 0 || movable[i]! > movable[s]!)) s = i;
    if (s < 0) break;
    // count-like: the newest file (the seed's candidate); bytes-like: the largest first, while targets have room.
    let f = bytesLike ? sizeIndex(s).largestAtMost(Infinity) : newestOf(s);
    let t = lowestWithRoom(s, size[f]!);
    if (t < 0 && anyLimit) {
      let most = -Infinity;
      for (const i of sched) most = Math.max(most, room(i));
      f = sizeIndex(s).largestAtMost(most);
      t = f < 0 ? -1 : lowestWithRoom(s, size[f]!);
    }
    if (t < 0) {
      closed[s] = 1;
      const why = sched.length === 0 ? 'no node can take files (all are drained, offline or weight 0)' : `no node has room below ${wm}`;
      hold[s] = { code: 'nowhere_to_go', message: `${nodes[s]!.node} must be emptied but its remaining ${plural(movable[s]!, 'file')} cannot move: ${why}` };
      continue;
    }
    move(f, s, t, pairReason(s, t, evacuationReason));
  }

  // Balancing: from the node of highest value to the node of lowest value while the spread reaches the threshold.
  const schedIdx = Int32Array.from(sched);
  while (schedIdx.length >= 2) {
    let s = schedIdx[0]!;
    let m = s;
    for (let j = 1; j < schedIdx.length; j++) {
      const i = schedIdx[j]!;
      const v = vals[i]!;
      if (v > vals[s]!) s = i;
      if (v < vals[m]!) m = i;
    }
    if (spreadBelow(vals[s]! - vals[m]!, thr)) break;
    const S = nodes[s]!.node;
    // Only the highest node giving narrows the spread: when it cannot, stop (and say why) rather than churn the rest.
    if (movable[s] === 0) {
      hold[s] = inFlight[s]! > 0
        ? { code: 'all_in_flight', message: `${S} holds the most (${val(s)}), but every file on it is already being moved` }
        : { code: 'unreachable', message: `${S} holds the most (${val(s)}), but none of its files may move` };
      break;
    }
    // The node that most needs files among those with room for one of s's files (the one count-like moves pick).
    const probe = !anyLimit ? -1 : bytesLike ? smallestOf(s) : newestOf(s);
    const need = probe < 0 ? 0 : size[probe]!;
    let t = !anyLimit || room(m) >= need ? m : lowestWithRoom(s, need);
    if (t < 0 && !bytesLike && anyLimit) t = lowestWithRoom(s, size[smallestOf(s)]!);
    if (t < 0) {
      hold[s] = { code: 'over_watermark', message: `${S} holds the most (${val(s)}), but every other node is at ${wm}` };
      break;
    }
    const T = nodes[t]!.node;
    const vs = value(s);
    const vt = value(t);
    const inv = 1 / norm[s]! + 1 / norm[t]!;
    // The size that would leave s and t level; a move helps only if it is below twice that.
    const level = (vs - vt) / inv;
    let f: number;
    if (!bytesLike) {
      f = 2 * level > 1 + 1e-9 ? newestOf(s) : -1; // one file narrows the gap only if it is under twice `level`
      if (f >= 0 && anyLimit && size[f]! > room(t)) f = sizeIndex(s).largestAtMost(room(t));
    } else {
      const index = sizeIndex(s);
      const cap = room(t);
      // With room for `level` bytes, both neighbours of `level` are candidates; with less, only what fits.
      let a: number;
      let bAbove = -1;
      if (cap >= level) {
        index.around(level);
        a = index.atMost;
        bAbove = index.above;
      } else {
        a = index.largestAtMost(cap);
      }
      const b = bAbove >= 0 && size[bAbove]! < 2 * level && size[bAbove]! <= cap ? bAbove : -1;
      f = a < 0 ? b : b < 0 ? a : level - size[a]! <= size[b]! - level ? a : b;
      if (f >= 0 && !(size[f]! > 0 && size[f]! < 2 * level)) f = -1;
    }
    if (f < 0) {
      hold[s] = {
        code: 'unreachable',
        message: bytesLike
          ? `${S} (${val(s)}) and ${T} (${val(t)}) are ${gap(vs - vt)} apart, but every file of ${S} that fits on ${T} would overshoot: no move narrows the spread below the ${thrWords}`
          : `${S} (${val(s)}) and ${T} (${val(t)}) are ${gap(vs - vt)} apart: one more file would only swap them, so the ${thrWords} cannot be met`,
      };
      break;
    }
    move(f, s, t, pairReason(s, t, balancingReason));
  }

  // ---- report ----
  const spreadAfter = spreadOf(schedValues());
  const balanced = isBalanced(schedValues(), thr, movableLeftToEmpty());
  const blocked: string[] = [];
  for (let i = 0; i < k; i++) {
    const name = nodes[i]!.node;
    if (role[i] === 'offline') {
      blocked.push(
        count[i]! > 0
          ? `${name} is offline: its ${plural(count[i]!, 'file')} (${formatBytes(bytes[i]!)}) stay where they are and it takes no files until it returns`
          : `${name} is offline: it takes no files until it returns`,
      );
    } else if (role[i] === 'no_capacity') {
      blocked.push(`${name} has no known capacity: the utilization strategy leaves its ${plural(count[i]!, 'file')} in place and sends it none`);
    } else if ((role[i] === 'drained' || role[i] === 'weight_zero') && hold[i] === null && movable[i] === 0 && inFlight[i]! > 0) {
      blocked.push(`${name} must be emptied; its ${plural(inFlight[i]!, 'file')} left are already being moved`);
    }
    if (hold[i]) blocked.push(hold[i]!.message);
  }
  for (const [node, c] of unknownNodes) blocked.push(`${plural(c, 'file')} sit on ${node}, which is not a configured node: left alone`);
  if (sched.length === 0 && countedFiles > 0 && strategy === 'weighted' && toEmpty.some((i) => role[i] === 'weight_zero')) {
    blocked.push('every node that may hold files has weight 0: no node can take files');
  }

  const nodesOut: NodeBalance[] = nodes.map((node, i) => {
    const cap = capacity[i] ?? null;
    const counted = role[i] === 'schedulable';
    return {
      node: node.node,
      role: role[i]!,
      countBefore: countBefore[i]!,
      countAfter: count[i]!,
      bytesBefore: bytesBefore[i]!,
      bytesAfter: bytes[i]!,
      utilizationBefore: cap === null ? null : bytesBefore[i]! / cap,
      utilizationAfter: cap === null ? null : bytes[i]! / cap,
      valueBefore: counted ? (bytesLike ? bytesBefore[i]! : countBefore[i]!) / norm[i]! : null,
      valueAfter: counted ? value(i) : null,
      movesOut: movesOut[i]!,
      movesIn: movesIn[i]!,
      inFlight: inFlight[i]!,
      hold: hold[i] ?? null,
    };
  });

  const moveAt = (j: number): PlannedMove => {
    const f = moveFile[j]!;
    const file = files[f]!;
    return { uuid: file.uuid, name: file.name, from: nodes[moveFrom[j]!]!.node, to: nodes[moveTo[j]!]!.node, sizeBytes: size[f]!, reason: reasonList[moveWhy[j]!]! };
  };
  const plan = {
    strategy,
    unit,
    threshold,
    thresholdInUnit: thr,
    highWatermark,
    moveCount,
    firstMove: moveCount > 0 ? moveAt(0) : null,
    bytesToMove,
    nodes: nodesOut,
    spreadBefore,
    spreadAfter,
    balancedBefore,
    balanced,
    blocked,
  } as Omit<WholePlan, 'moves'> as WholePlan;
  let built: PlannedMove[] | null = null;
  // Enumerable, so the API's JSON carries the list; built once, on first read.
  Object.defineProperty(plan, 'moves', {
    enumerable: true,
    get: () => (built ??= Array.from({ length: moveCount }, (_, j) => moveAt(j))),
  });
  return plan;
}
