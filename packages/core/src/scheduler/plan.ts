/**
 * The scheduler's diagnostics (the seed's build_scheduler_plan fields: counts, source, target, candidate, delta,
 * threshold, reason, message), derived from the whole plan and from nothing else: the candidate is the plan's
 * first move and `shouldMigrate` is true exactly when the plan has moves. Every node is explained, as
 * Elasticsearch's allocation explain does per decider: its role in this round and why, as a code and in words.
 */
import type { NodeState } from '../types.ts';
import { formatBytes, plural } from '../format.ts';
import { describeGap, describeValue, type BalanceUnit, type StrategyName } from './balance.ts';
import { planMoves, type PlanMovesInput, type WholePlan } from './planner.ts';

/** The few fields of a file the planner and the diagnostics need; lean so 100,000 of them plan in milliseconds. */
export interface PlanFile {
  uuid: string;
  name: string;
  node: string;
  sizeBytes: number;
  createdAt: string;
  historyLength: number;
  lastAction: string | null;
}

/** The round as a whole: moving (`ok`, `draining`) or why nothing moves. */
export const PLAN_REASONS = [
  'ok',
  'draining',
  'below_threshold',
  'no_files',
  'no_target',
  'no_candidate',
  'watermark',
  'unreachable',
] as const;
export type PlanReason = (typeof PLAN_REASONS)[number];

/** A node's role in this round. */
export type NodeRole = 'source' | 'target' | 'neither';

/**
 * Why a node has its role:
 * - source: `most_loaded` (above the others by the threshold or more), `drained` / `weight_zero` (being emptied);
 * - target: `least_loaded`;
 * - neither: `within_threshold`, `drained` (empty, or its files already moving), `weight_zero`, `offline`,
 *   `no_capacity` (utilization without a known capacity), `over_watermark` (no room below the high watermark),
 *   `all_in_flight` (its files are already being moved), `unreachable` (no single move narrows the spread), `no_files`;
 * - `at_cap` overrides a source's or target's code while its per-node concurrency cap is full: its moves wait.
 */
export const NODE_REASONS = [
  'most_loaded',
  'least_loaded',
  'within_threshold',
  'drained',
  'weight_zero',
  'offline',
  'no_capacity',
  'over_watermark',
  'all_in_flight',
  'unreachable',
  'at_cap',
  'no_files',
] as const;
export type NodeReason = (typeof NODE_REASONS)[number];

export interface NodeExplain {
  node: string;
  role: NodeRole;
  code: NodeReason;
  /** The same in words, with the figures behind it. */
  reason: string;
  files: number;
  bytes: number;
  /** The node's value in the plan's unit (null when it is not counted: offline, drained, ...). */
  value: number | null;
  filesAfter: number;
  movesOut: number;
  movesIn: number;
}

export interface PlanCandidate {
  uuid: string;
  name: string;
  sizeBytes: number;
  createdAt: string;
  lastAction: string | null;
  historyLength: number;
}

export interface SchedulerPlan {
  counts: Record<string, number>;
  nodeStates: Record<string, { drained: boolean; reason: string | null; updatedAt: string | null; offline: boolean }>;
  drainedNodes: string[];
  offlineNodes: string[];
  /** The plan's first move: source, target and file. */
  sourceNode: string | null;
  targetNode: string | null;
  candidate: PlanCandidate | null;
  /** The spread now (max − min over the nodes that may hold files), in `unit`. */
  delta: number;
  /** The setting as configured (see balance.ts for its unit per strategy). */
  threshold: number;
  thresholdInUnit: number;
  strategy: StrategyName;
  unit: BalanceUnit;
  totalFiles: number;
  /** True exactly when the plan has moves. */
  shouldMigrate: boolean;
  reason: PlanReason;
  message: string;
  /** The whole plan in figures: moves, bytes, and the spread once they are done. */
  moves: number;
  bytesToMove: number;
  spreadAfter: number;
  balanced: boolean;
  balancedAfter: boolean;
  nodes: NodeExplain[];
  generatedAt: string;
}

export interface ExplainContext {
  /** Liveness and drain state per node, for the seed's `nodeStates` field. */
  nodeStates: readonly NodeState[];
  /** The files as planned, to describe the candidate (history, age). */
  fileByUuid: (uuid: string) => PlanFile | undefined;
  /** Open moves per node and the per-node caps: a source or target whose cap is full waits. */
  busy?: { running: Readonly<Record<string, { in: number; out: number }>>; maxPerNodeIn: number; maxPerNodeOut: number };
  now?: Date;
}

/** Turns a whole plan into the diagnostics. Pure: the same plan gives the same words. */
export function explainPlan(plan: WholePlan, ctx: ExplainContext): SchedulerPlan {
  const words = wordsFor(plan);
  const states = nodeStatesOf(plan, ctx);
  const first = plan.firstMove;
  const [reason, message] = summarize(plan, words, states);
  return {
    counts: states.counts,
    nodeStates: states.nodeStates,
    drainedNodes: states.drainedNodes,
    offlineNodes: states.offlineNodes,
    sourceNode: first?.from ?? null,
    targetNode: first?.to ?? null,
    candidate: candidateOf(plan, ctx),
    delta: plan.spreadBefore,
    threshold: plan.threshold,
    thresholdInUnit: words.thr,
    strategy: plan.strategy,
    unit: plan.unit,
    totalFiles: states.totalFiles,
    shouldMigrate: plan.moveCount > 0,
    reason,
    message,
    moves: plan.moveCount,
    bytesToMove: plan.bytesToMove,
    spreadAfter: plan.spreadAfter,
    balanced: plan.balancedBefore,
    balancedAfter: plan.balanced,
    nodes: explainNodes(plan, ctx, words),
    generatedAt: (ctx.now ?? new Date()).toISOString(),
  };
}

type PlannedNode = WholePlan['nodes'][number];

/** How the diagnostics speak of a plan: values and gaps in its unit, and the fullest and emptiest counted nodes. */
interface PlanWords {
  val: (v: number) => string;
  gap: (v: number) => string;
  thr: number;
  /** The nodes whose values make the spread. */
  counted: PlannedNode[];
  top: PlannedNode | null;
  bottom: PlannedNode | null;
}

function wordsFor(plan: WholePlan): PlanWords {
  const { unit } = plan;
  const counted = plan.nodes.filter((n) => n.role === 'schedulable');
  return {
    val: (v) => describeValue(unit, v, formatBytes),
    gap: (v) => describeGap(unit, v, formatBytes),
    thr: plan.thresholdInUnit,
    counted,
    top: counted.reduce<PlannedNode | null>((a, n) => (a === null || n.valueBefore! > a.valueBefore! ? n : a), null),
    bottom: counted.reduce<PlannedNode | null>((a, n) => (a === null || n.valueBefore! < a.valueBefore! ? n : a), null),
  };
}

type NodeStatesSummary = Pick<SchedulerPlan, 'counts' | 'nodeStates' | 'drainedNodes' | 'offlineNodes' | 'totalFiles'>;

/** Each node's files before the plan and its drain and liveness state, as the seed's fields give them. */
function nodeStatesOf(plan: WholePlan, ctx: ExplainContext): NodeStatesSummary {
  const stateByNode = new Map(ctx.nodeStates.map((s) => [s.node, s]));
  const counts: Record<string, number> = {};
  const nodeStates: SchedulerPlan['nodeStates'] = {};
  const drainedNodes: string[] = [];
  const offlineNodes: string[] = [];
  let totalFiles = 0;
  for (const n of plan.nodes) {
    counts[n.node] = n.countBefore;
    totalFiles += n.countBefore;
    const st = stateByNode.get(n.node);
    const drained = st?.drained ?? n.role === 'drained';
    if (drained) drainedNodes.push(n.node);
    if (n.role === 'offline') offlineNodes.push(n.node);
    nodeStates[n.node] = { drained, reason: st?.reason ?? null, updatedAt: st?.updatedAt ?? null, offline: n.role === 'offline' };
  }
  return { counts, nodeStates, drainedNodes, offlineNodes, totalFiles };
}

/** Every node's role in this round and why; a source or target whose per-node cap is full says it waits. */
function explainNodes(plan: WholePlan, ctx: ExplainContext, words: PlanWords): NodeExplain[] {
  const sources = plan.nodes.filter((n) => n.movesOut > 0).map((n) => n.node);
  const evacuated = plan.nodes.filter((n) => n.movesOut > 0 && (n.role === 'drained' || n.role === 'weight_zero')).map((n) => n.node);
  return plan.nodes.map((n) => {
    const role: NodeRole = n.movesOut > n.movesIn ? 'source' : n.movesIn > 0 ? 'target' : 'neither';
    const base = {
      node: n.node,
      role,
      files: n.countBefore,
      bytes: n.bytesBefore,
      value: n.valueBefore,
      filesAfter: n.countAfter,
      movesOut: n.movesOut,
      movesIn: n.movesIn,
    };
    const [code, reason] = explainNode(plan, n, role, words, { sources, evacuated });
    const busy = ctx.busy;
    if (busy && role !== 'neither') {
      const open = busy.running[n.node] ?? { in: 0, out: 0 };
      if (role === 'source' && open.out >= busy.maxPerNodeOut) {
        return { ...base, code: 'at_cap', reason: `${reason}; ${plural(open.out, 'move')} out already running, its cap: the next wait` };
      }
      if (role === 'target' && open.in >= busy.maxPerNodeIn) {
        return { ...base, code: 'at_cap', reason: `${reason}; ${plural(open.in, 'move')} in already running, its cap: the next wait` };
      }
    }
    return { ...base, code, reason };
  });
}

/** One node's code and words: why it gives, takes, or is left alone. */
function explainNode(
  plan: WholePlan,
  n: PlannedNode,
  role: NodeRole,
  { val, gap, thr, top, bottom }: PlanWords,
  { sources, evacuated }: { sources: readonly string[]; evacuated: readonly string[] },
): [NodeReason, string] {
  const files = plural(n.countBefore, 'file');
  if (n.role === 'offline') return ['offline', `offline: not counted; its ${files} stay and it takes none until it returns`];
  if (n.role === 'no_capacity') return ['no_capacity', `capacity unknown: the utilization strategy leaves its ${files} in place`];
  if (n.role === 'drained' || n.role === 'weight_zero') {
    const code = n.role === 'drained' ? 'drained' : 'weight_zero';
    const what = n.role === 'drained' ? 'drained' : 'weight 0';
    if (n.hold) return [code, `${what}: ${n.hold.message}`];
    if (n.movesOut > 0)
      return [code, `${what}: gives all ${plural(n.movesOut, 'movable file')}${n.inFlight > 0 ? ` (${n.inFlight} already moving)` : ''}`];
    if (n.inFlight > 0) return [code, `${what}: its ${plural(n.inFlight, 'file')} left are already moving`];
    return [code, `${what} and empty: takes no files`];
  }
  const v = n.valueBefore!;
  if (role === 'source') {
    return [
      'most_loaded',
      `${val(v)}, ${gap(v - bottom!.valueBefore!)} above ${bottom!.node} (threshold ${gap(thr)}): gives ${plural(n.movesOut, 'file')}, ends at ${val(n.valueAfter!)}`,
    ];
  }
  if (role === 'target') {
    const below = top !== null && top.node !== n.node && top.valueBefore! > v ? `, ${gap(top.valueBefore! - v)} below ${top.node}` : '';
    const from = evacuated.length > 0 ? ` (from ${evacuated.join(', ')}${evacuated.length < sources.length ? ' and others' : ''})` : '';
    return ['least_loaded', `${val(v)}${below}: receives ${plural(n.movesIn, 'file')}${from}, ends at ${val(n.valueAfter!)}`];
  }
  if (n.hold) return [n.hold.code === 'nowhere_to_go' ? 'unreachable' : n.hold.code, n.hold.message];
  if (plan.nodes.every((m) => m.countBefore === 0)) return ['no_files', 'no files yet'];
  if (n.utilizationBefore !== null && n.utilizationBefore >= plan.highWatermark && n.node !== top?.node) {
    return [
      'over_watermark',
      `${(n.utilizationBefore * 100).toFixed(1)}% full, at or over the ${(plan.highWatermark * 100).toFixed(0)}% high watermark: takes no files`,
    ];
  }
  return ['within_threshold', `${val(v)}: within the threshold (spread ${gap(plan.spreadAfter)}, threshold ${gap(thr)})`];
}

/** The plan's first move, described with the file's history and age. */
function candidateOf(plan: WholePlan, ctx: ExplainContext): PlanCandidate | null {
  const first = plan.firstMove;
  if (!first) return null;
  const candidateFile = ctx.fileByUuid(first.uuid);
  return {
    uuid: first.uuid,
    name: first.name,
    sizeBytes: first.sizeBytes,
    createdAt: candidateFile?.createdAt ?? '',
    lastAction: candidateFile?.lastAction ?? null,
    historyLength: candidateFile?.historyLength ?? 0,
  };
}

/** The round as a whole: the first move and why, or why nothing moves. */
function summarize(
  plan: WholePlan,
  { val, gap, thr, counted, top, bottom }: PlanWords,
  { totalFiles, offlineNodes }: NodeStatesSummary,
): [PlanReason, string] {
  const first = plan.firstMove;
  const offlineNote = offlineNodes.length > 0 ? ` (${offlineNodes.join(', ')} offline, not counted)` : '';
  if (first) {
    const src = plan.nodes.find((n) => n.node === first.from)!;
    const rest = plan.moveCount > 1 ? `, the first of ${plural(plan.moveCount, 'move')}` : ', the only move needed';
    if (src.role === 'drained' || src.role === 'weight_zero') {
      return [
        'draining',
        `${first.from} is ${src.role === 'drained' ? 'drained' : 'weighted 0'} and still holds ${plural(src.countBefore - src.inFlight, 'movable file')}: moving ${first.name} to ${first.to}${rest}`,
      ];
    }
    return [
      'ok',
      `${top!.node} holds ${val(top!.valueBefore!)} and ${bottom!.node} ${val(bottom!.valueBefore!)}: spread ${gap(plan.spreadBefore)} reaches the threshold ${gap(thr)}; moving ${first.name} from ${first.from} to ${first.to}${rest}`,
    ];
  }
  if (totalFiles === 0) return ['no_files', 'no files yet: nothing to balance'];
  if (plan.balancedBefore) {
    return [
      'below_threshold',
      counted.length < 2
        ? `balanced: ${counted.length === 1 ? `${counted[0]!.node} is the only node that may hold files` : 'no node may hold files'}${offlineNote}`
        : `balanced: spread ${gap(plan.spreadBefore)} (${top!.node} ${val(top!.valueBefore!)}, ${bottom!.node} ${val(bottom!.valueBefore!)}) is below the threshold ${gap(thr)}${offlineNote}`,
    ];
  }
  if (counted.length === 0)
    return [
      'no_target',
      `no node can take files: ${offlineNodes.length === plan.nodes.length ? 'every node is offline' : 'every node is drained, offline or weight 0'}`,
    ];
  const held = plan.nodes.find((n) => n.hold !== null)?.hold ?? null;
  if (held?.code === 'all_in_flight') return ['no_candidate', held.message];
  if (held?.code === 'over_watermark' || held?.code === 'nowhere_to_go') return ['watermark', held.message];
  return ['unreachable', held?.message ?? `spread ${gap(plan.spreadBefore)} reaches the threshold ${gap(thr)}, but no move narrows it`];
}

export interface BuildPlanInput extends Omit<PlanMovesInput, 'nodes' | 'strategy' | 'files'> {
  /** Configured nodes, in display order; ties are broken by this order so plans are deterministic. */
  nodes: readonly string[];
  /** Files, newest first (the count strategies move the newest file of a source first). */
  files: readonly PlanFile[];
  nodeStates: readonly NodeState[];
  strategy?: StrategyName;
  offlineNodes?: readonly string[];
  capacityOf?: (node: string) => number | null;
  weightOf?: (node: string) => number;
  busy?: ExplainContext['busy'];
  now?: Date;
}

/** Plans and explains in one call: the diagnostics of the given placement. */
export function buildPlan(input: BuildPlanInput): SchedulerPlan {
  const offline = new Set(input.offlineNodes ?? []);
  const drained = new Set(input.nodeStates.filter((s) => s.drained).map((s) => s.node));
  const plan = planMoves({
    strategy: input.strategy ?? 'count',
    nodes: input.nodes.map((node) => ({
      node,
      drained: drained.has(node),
      offline: offline.has(node),
      capacityBytes: input.capacityOf?.(node) ?? null,
      weight: input.weightOf?.(node) ?? 1,
    })),
    files: input.files,
    threshold: input.threshold,
    highWatermark: input.highWatermark,
    excludeFiles: input.excludeFiles,
  });
  return explainPlan(plan, {
    nodeStates: input.nodeStates,
    fileByUuid: (uuid) => input.files.find((f) => f.uuid === uuid),
    busy: input.busy,
    now: input.now,
  });
}
