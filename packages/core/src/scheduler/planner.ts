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
import { formatBytes, plural } from '../format.ts';
import { isBalanced, spreadBelow, spreadOf, STRATEGY_NAMES } from './balance.ts';
import { PlanState } from './plan-state.ts';
import { DEFAULT_HIGH_WATERMARK, type NodeBalance, type PlanMovesInput, type PlannedMove, type WholePlan } from './planner-types.ts';

export * from './planner-types.ts';

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
  const st = new PlanState(input);
  const spreadBefore = spreadOf(st.schedValues());
  const balancedBefore = isBalanced(st.schedValues(), st.thr, st.movableLeftToEmpty());
  evacuate(st);
  balance(st);
  return report(st, input.threshold, spreadBefore, balancedBefore);
}

const evacuationReason = (st: PlanState) => (s: number, t: number) =>
  `${st.name(s)} ${st.role[s] === 'drained' ? 'is drained' : 'has weight 0'} and held ${plural(st.movable[s]!, 'movable file')}; ${st.name(t)} was the emptiest node with room (${st.val(t)})`;

/** Nodes that must be emptied give every movable file, the fullest first, to the emptiest nodes with room. */
function evacuate(st: PlanState): void {
  const closed = new Uint8Array(st.k);
  const why = evacuationReason(st);
  for (;;) {
    let s = -1;
    for (const i of st.toEmpty) if (closed[i] === 0 && st.movable[i]! > 0 && (s < 0 || st.movable[i]! > st.movable[s]!)) s = i;
    if (s < 0) return;
    // count-like: the newest file (the seed's candidate); bytes-like: the largest first, while targets have room.
    let f = st.bytesLike ? st.sizeIndex(s).largestAtMost(Infinity) : st.newestOf(s);
    let t = st.lowestWithRoom(s, st.size[f]!);
    if (t < 0 && st.anyLimit) {
      let most = -Infinity;
      for (const i of st.sched) most = Math.max(most, st.room(i));
      f = st.sizeIndex(s).largestAtMost(most);
      t = f < 0 ? -1 : st.lowestWithRoom(s, st.size[f]!);
    }
    if (t < 0) {
      closed[s] = 1;
      const reason =
        st.sched.length === 0
          ? 'no node can take files (all are drained, offline or weight 0)'
          : `no node has room below ${st.watermarkWords}`;
      st.hold[s] = {
        code: 'nowhere_to_go',
        message: `${st.name(s)} must be emptied but its remaining ${plural(st.movable[s]!, 'file')} cannot move: ${reason}`,
      };
      continue;
    }
    st.move(f, s, t, why);
  }
}

const balancingReason = (st: PlanState) => (s: number, t: number) =>
  `${st.name(s)} holds ${st.val(s)} and ${st.name(t)} ${st.val(t)}: ${st.gap(st.value(s) - st.value(t))} apart, at or over the ${st.thresholdWords}`;

/**
 * From the node of highest value to the node of lowest value while the spread reaches the threshold. Only the
 * highest node giving narrows the spread: when it cannot, stop and say why rather than churn the others.
 */
function balance(st: PlanState): void {
  const { vals, size } = st;
  const sched = Int32Array.from(st.sched);
  const why = balancingReason(st);
  while (sched.length >= 2) {
    let s = sched[0]!;
    let m = s;
    for (let j = 1; j < sched.length; j++) {
      const i = sched[j]!;
      const v = vals[i]!;
      if (v > vals[s]!) s = i;
      if (v < vals[m]!) m = i;
    }
    if (spreadBelow(vals[s]! - vals[m]!, st.thr)) return;
    if (st.movable[s] === 0) {
      st.hold[s] =
        st.inFlight[s]! > 0
          ? { code: 'all_in_flight', message: `${st.name(s)} holds the most (${st.val(s)}), but every file on it is already being moved` }
          : { code: 'unreachable', message: `${st.name(s)} holds the most (${st.val(s)}), but none of its files may move` };
      return;
    }
    // The node that most needs files among those with room for one of s's files (the one count-like moves pick).
    const probe = !st.anyLimit ? -1 : st.bytesLike ? st.smallestOf(s) : st.newestOf(s);
    const need = probe < 0 ? 0 : size[probe]!;
    let t = !st.anyLimit || st.room(m) >= need ? m : st.lowestWithRoom(s, need);
    if (t < 0 && !st.bytesLike && st.anyLimit) t = st.lowestWithRoom(s, size[st.smallestOf(s)]!);
    if (t < 0) {
      st.hold[s] = {
        code: 'over_watermark',
        message: `${st.name(s)} holds the most (${st.val(s)}), but every other node is at ${st.watermarkWords}`,
      };
      return;
    }
    const f = pickFile(st, s, t);
    if (f < 0) {
      const S = st.name(s);
      const T = st.name(t);
      const apart = st.gap(vals[s]! - vals[t]!);
      st.hold[s] = {
        code: 'unreachable',
        message: st.bytesLike
          ? `${S} (${st.val(s)}) and ${T} (${st.val(t)}) are ${apart} apart, but every file of ${S} that fits on ${T} would overshoot: no move narrows the spread below the ${st.thresholdWords}`
          : `${S} (${st.val(s)}) and ${T} (${st.val(t)}) are ${apart} apart: one more file would only swap them, so the ${st.thresholdWords} cannot be met`,
      };
      return;
    }
    st.move(f, s, t, why);
  }
}

/**
 * The file of s to move to t, or -1 when none narrows their gap. `level` is the size that would leave the two
 * level; a move helps only if it is below twice that. count-like: the newest file (the largest that fits when
 * the newest would cross the watermark); bytes-like: whichever neighbour of `level` lands closer.
 */
function pickFile(st: PlanState, s: number, t: number): number {
  const { size } = st;
  const level = (st.value(s) - st.value(t)) / (1 / st.norm[s]! + 1 / st.norm[t]!);
  if (!st.bytesLike) {
    let f = 2 * level > 1 + 1e-9 ? st.newestOf(s) : -1;
    if (f >= 0 && st.anyLimit && size[f]! > st.room(t)) f = st.sizeIndex(s).largestAtMost(st.room(t));
    return f;
  }
  const index = st.sizeIndex(s);
  const cap = st.room(t);
  // With room for `level` bytes, both neighbours of `level` are candidates; with less, only what fits.
  let a: number;
  let above = -1;
  if (cap >= level) {
    index.around(level);
    a = index.atMost;
    above = index.above;
  } else {
    a = index.largestAtMost(cap);
  }
  const b = above >= 0 && size[above]! < 2 * level && size[above]! <= cap ? above : -1;
  const f = a < 0 ? b : b < 0 ? a : level - size[a]! <= size[b]! - level ? a : b;
  return f >= 0 && size[f]! > 0 && size[f]! < 2 * level ? f : -1;
}

/** The plan as the API serves it: per-node figures before and after, the spread, and what held anything back. */
function report(st: PlanState, threshold: number, spreadBefore: number, balancedBefore: boolean): WholePlan {
  const { role, count, bytes, hold, inFlight } = st;
  const blocked: string[] = [];
  for (let i = 0; i < st.k; i++) {
    const name = st.name(i);
    if (role[i] === 'offline') {
      blocked.push(
        count[i]! > 0
          ? `${name} is offline: its ${plural(count[i]!, 'file')} (${formatBytes(bytes[i])}) stay where they are and it takes no files until it returns`
          : `${name} is offline: it takes no files until it returns`,
      );
    } else if (role[i] === 'no_capacity') {
      blocked.push(
        `${name} has no known capacity: the utilization strategy leaves its ${plural(count[i]!, 'file')} in place and sends it none`,
      );
    } else if ((role[i] === 'drained' || role[i] === 'weight_zero') && hold[i] === null && st.movable[i] === 0 && inFlight[i]! > 0) {
      blocked.push(`${name} must be emptied; its ${plural(inFlight[i]!, 'file')} left are already being moved`);
    }
    if (hold[i]) blocked.push(hold[i]!.message);
  }
  for (const [node, c] of st.unknownNodes) blocked.push(`${plural(c, 'file')} sit on ${node}, which is not a configured node: left alone`);
  if (st.sched.length === 0 && st.countedFiles > 0 && st.strategy === 'weighted' && st.toEmpty.some((i) => role[i] === 'weight_zero')) {
    blocked.push('every node that may hold files has weight 0: no node can take files');
  }

  const nodes: NodeBalance[] = st.nodes.map((node, i) => {
    const cap = st.capacity[i] ?? null;
    const counted = role[i] === 'schedulable';
    return {
      node: node.node,
      role: role[i]!,
      countBefore: st.countBefore[i]!,
      countAfter: count[i]!,
      bytesBefore: st.bytesBefore[i]!,
      bytesAfter: bytes[i]!,
      utilizationBefore: cap === null ? null : st.bytesBefore[i]! / cap,
      utilizationAfter: cap === null ? null : bytes[i]! / cap,
      valueBefore: counted ? (st.bytesLike ? st.bytesBefore[i]! : st.countBefore[i]!) / st.norm[i]! : null,
      valueAfter: counted ? st.value(i) : null,
      movesOut: st.movesOut[i]!,
      movesIn: st.movesIn[i]!,
      inFlight: inFlight[i]!,
      hold: hold[i] ?? null,
    };
  });

  const plan = {
    strategy: st.strategy,
    unit: st.unit,
    threshold,
    thresholdInUnit: st.thr,
    highWatermark: st.highWatermark,
    moveCount: st.moveCount,
    firstMove: st.moveCount > 0 ? st.moveAt(0) : null,
    bytesToMove: st.bytesToMove,
    nodes,
    spreadBefore,
    spreadAfter: spreadOf(st.schedValues()),
    balancedBefore,
    balanced: isBalanced(st.schedValues(), st.thr, st.movableLeftToEmpty()),
    blocked,
  } as Omit<WholePlan, 'moves'> as WholePlan;
  let built: PlannedMove[] | null = null;
  // Enumerable, so the API's JSON carries the list; built once, on first read.
  Object.defineProperty(plan, 'moves', {
    enumerable: true,
    get: () => (built ??= Array.from({ length: st.moveCount }, (_, j) => st.moveAt(j))),
  });
  return plan;
}
