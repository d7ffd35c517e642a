/**
 * Capacity planning: should the cluster grow or shrink, by how many nodes, and how soon. The seed design
 * compares utilization with a target and a ±10% band around it (scale up above target × 1.1, down below
 * target × 0.9) and sizes the change in whole nodes; here the trend comes from a least-squares fit over the
 * usage history rather than from counting past recommendations, so "growing" means the bytes are growing.
 * The answer is a recommendation with its reasons: adding or removing nodes stays an operator's decision, and
 * the moves it implies are planned by strategies.ts (a new node is an empty target, a retired one is drained).
 *
 * A trend needs a span of history worth fitting (MIN_TREND_SPAN_MS): a few minutes of a demo's uploads fitted
 * to a slope say "growing 1.4 GiB/day", which is noise. Until then there is no trend, and no advice to remove
 * nodes (a cluster just started is always "below the band").
 *
 * Below: each node's own capacity (nodeCapacity, ownFilesystemNodes) and the NODE_FULL refusal of a put or a
 * move that would pass it (checkNodeRoom).
 */
import { AppError } from '../errors.ts';
import { formatBytes, formatDuration, formatPercent, plural } from '../format.ts';

export interface CapacityNode {
  node: string;
  capacityBytes: number;
  usedBytes: number;
}

/** Total bytes used across the cluster at a moment (epoch ms). */
export interface UsagePoint {
  at: number;
  usedBytes: number;
}

export interface CapacityInput {
  nodes: readonly CapacityNode[];
  /** Cluster totals over time, any order. Two points at different times at least, for a trend. */
  history: readonly UsagePoint[];
  /** Default 0.7. */
  targetUtilization?: number;
  /** Relative half-width of the no-action band, as in the seed: act above target × (1 + band) or below target × (1 − band). Default 0.1. */
  band?: number;
  now: number;
  /** The size of a node to add or remove; default the median capacity of the current nodes. */
  nodeCapacityBytes?: number;
  /** A scale-down keeps room for this long at the current growth. Default 30 days. */
  horizonMs?: number;
  /** Growth below this (either way) counts as stable; default 0.1% of the total capacity per day. */
  stableBytesPerDay?: number;
  /** History spanning less than this has no trend and never advises removing nodes; default MIN_TREND_SPAN_MS. */
  minHistoryMs?: number;
}

export type CapacityAction = 'scale_up' | 'scale_down' | 'no_action';
/** How usage moves over the fitted history; 'unknown' until the history spans minHistoryMs (no trend is fitted before). */
export type CapacityTrend = 'growing' | 'stable' | 'shrinking' | 'unknown';

/** The trend in words, as the console and the CLI show it beside a utilization. */
export const CAPACITY_TREND_WORDS: Record<CapacityTrend, string> = {
  growing: 'growing',
  stable: 'stable',
  shrinking: 'shrinking',
  unknown: 'not enough history',
};

export interface CapacityRecommendation {
  action: CapacityAction;
  nodesToAdd: number;
  nodesToRemove: number;
  /** used / capacity now, 0–1. */
  utilization: number;
  /** The band edges, 0–1. */
  upperUtilization: number;
  lowerUtilization: number;
  /** Utilization once the recommended nodes are added or removed (the current one for no_action). */
  utilizationAfter: number;
  nodeCapacityBytes: number;
  trend: CapacityTrend;
  /** Least-squares slope of the history, bytes per day (negative when shrinking). */
  growthBytesPerDay: number;
  /** While growing: how long until utilization reaches the upper edge at this growth (0 if already past); else null. */
  timeToTargetMs: number | null;
  /** From the oldest to the newest usage point (0 with fewer than two). */
  historySpanMs: number;
  /** historySpanMs reaches minHistoryMs: the trend is fitted, and removing nodes may be advised. */
  enoughHistory: boolean;
  reason: string;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The shortest span of usage history the trend is fitted over: one hour. Shorter, the slope is whatever the
 * last few uploads were (minutes of a demo extrapolated to a day), so the planner says "not enough history".
 */
export const MIN_TREND_SPAN_MS = 60 * 60 * 1000;

/** Least-squares slope of usedBytes over time, in bytes per millisecond; 0 with fewer than two distinct times. */
export function usageSlope(history: readonly UsagePoint[]): number {
  const n = history.length;
  if (n < 2) return 0;
  // Centre the times: epoch milliseconds squared lose precision in doubles.
  let meanT = 0;
  let meanU = 0;
  for (const p of history) {
    meanT += p.at / n;
    meanU += p.usedBytes / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (const p of history) {
    const dt = p.at - meanT;
    sxy += dt * (p.usedBytes - meanU);
    sxx += dt * dt;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Recommends scaling from current utilization and the usage trend:
 * - above target × (1 + band): add ⌈(used / target − capacity) / nodeSize⌉ nodes (at least 1), bringing
 *   utilization back to the target or just under it;
 * - below target × (1 − band): remove ⌊(capacity − projected / target) / nodeSize⌋ nodes, where projected is the
 *   usage `horizonMs` from now at the current growth (so a growing cluster keeps its room), never the last node;
 * - otherwise nothing. `timeToTargetMs` says when growth will cross the upper edge.
 */
export function recommendCapacity(input: CapacityInput): CapacityRecommendation {
  const target = input.targetUtilization ?? 0.7;
  const band = input.band ?? 0.1;
  const horizonMs = input.horizonMs ?? 30 * DAY_MS;
  if (!(target > 0 && target <= 1)) throw new AppError('BAD_INPUT', `targetUtilization must be in (0, 1], got ${target}`);
  if (!(band >= 0 && band < 1)) throw new AppError('BAD_INPUT', `band must be in [0, 1), got ${band}`);

  const nodes = input.nodes.filter((n) => n.capacityBytes > 0);
  const capacity = nodes.reduce((s, n) => s + n.capacityBytes, 0);
  const used = nodes.reduce((s, n) => s + n.usedBytes, 0);
  const nodeSize = input.nodeCapacityBytes ?? (nodes.length > 0 ? median(nodes.map((n) => n.capacityBytes)) : 0);
  const upper = target * (1 + band);
  const lower = target * (1 - band);
  const growth = usageTrend(input, capacity, used, upper);
  const { trend, growthBytesPerDay, timeToTargetMs, historySpanMs, enoughHistory } = growth;

  const utilization = capacity > 0 ? used / capacity : 0;
  const pct = formatPercent;
  const bandWords = `${pct(lower)}–${pct(upper)} (target ${pct(target)} ± ${formatPercent(band)} of it)`;
  const trendWords = describeTrend(growth, upper);
  const base: RecommendationFacts = {
    utilization,
    upperUtilization: upper,
    lowerUtilization: lower,
    nodeCapacityBytes: nodeSize,
    trend,
    growthBytesPerDay,
    timeToTargetMs,
    historySpanMs,
    enoughHistory,
  };

  if (capacity === 0 || nodeSize <= 0) return noAction(base, 'no node reports a capacity: nothing to plan');

  const now = `utilization ${pct(utilization)} (${formatBytes(used)} of ${formatBytes(capacity)})`;
  const sizing: Sizing = { base, used, capacity, target, nodeSize, now, trendWords };
  if (utilization > upper) return scaleUp(sizing);
  if (utilization < lower && !enoughHistory) {
    // A cluster just started (or just sampled) is always below the band: until its growth is known, removing
    // a node could leave it short within the hour. Say so instead of advising it.
    return noAction(
      base,
      `${now} is below ${pct(lower)}, but removing nodes waits for ${formatDuration(growth.minHistoryMs)} of history; ${trendWords}`,
    );
  }
  if (utilization < lower) return scaleDown(sizing, { nodeCount: nodes.length, slopePerMs: growth.slopePerMs, horizonMs });
  return noAction(base, `${now} is within ${bandWords}; ${trendWords}`);
}

/** The usage trend: fitted over the history up to now, once it spans minHistoryMs; and when growth crosses `upper`. */
function usageTrend(input: CapacityInput, capacity: number, used: number, upper: number) {
  const history = input.history.filter((p) => p.at <= input.now);
  const minHistoryMs = input.minHistoryMs ?? MIN_TREND_SPAN_MS;
  const historySpanMs = history.length < 2 ? 0 : Math.max(...history.map((p) => p.at)) - Math.min(...history.map((p) => p.at));
  const enoughHistory = historySpanMs > 0 && historySpanMs >= minHistoryMs;
  // Without a span worth fitting there is no growth to speak of: none is reported, and none is projected.
  const slopePerMs = enoughHistory ? usageSlope(history) : 0;
  const growthBytesPerDay = slopePerMs * DAY_MS;
  const stable = input.stableBytesPerDay ?? capacity * 0.001;
  const trend: CapacityTrend = !enoughHistory
    ? 'unknown'
    : growthBytesPerDay > stable
      ? 'growing'
      : growthBytesPerDay < -stable
        ? 'shrinking'
        : 'stable';
  const timeToTargetMs = trend !== 'growing' || capacity === 0 ? null : Math.max(0, (upper * capacity - used) / slopePerMs);
  return { minHistoryMs, historySpanMs, enoughHistory, slopePerMs, growthBytesPerDay, trend, timeToTargetMs };
}

/** The trend as a reason says it: not enough history yet, growing (and when it crosses `upper`), shrinking or stable. */
function describeTrend(growth: ReturnType<typeof usageTrend>, upper: number): string {
  const { minHistoryMs, historySpanMs, enoughHistory, growthBytesPerDay, trend, timeToTargetMs } = growth;
  const historyWords = `${historySpanMs > 0 ? formatDuration(historySpanMs) : 'none'} of the ${formatDuration(minHistoryMs)} needed`;
  return !enoughHistory
    ? `not enough history for a trend (${historyWords})`
    : trend === 'growing'
      ? `growing ${formatBytes(growthBytesPerDay)}/day${timeToTargetMs === 0 ? '' : `, crossing ${formatPercent(upper)} in ${formatDuration(timeToTargetMs)}`}`
      : trend === 'shrinking'
        ? `shrinking ${formatBytes(-growthBytesPerDay)}/day`
        : 'usage is stable';
}

/** What every recommendation reports, whatever its action. */
type RecommendationFacts = Omit<CapacityRecommendation, 'action' | 'nodesToAdd' | 'nodesToRemove' | 'utilizationAfter' | 'reason'>;

/** What a change is sized from, with the words every reason ends or starts with (`now`: utilization and bytes). */
interface Sizing {
  base: RecommendationFacts;
  used: number;
  capacity: number;
  target: number;
  nodeSize: number;
  now: string;
  trendWords: string;
}

function noAction(base: RecommendationFacts, reason: string): CapacityRecommendation {
  return { ...base, action: 'no_action', nodesToAdd: 0, nodesToRemove: 0, utilizationAfter: base.utilization, reason };
}

/** Above the band: the nodes that bring utilization back to the target or just under it (at least one). */
function scaleUp(s: Sizing): CapacityRecommendation {
  const { base, used, capacity, target, nodeSize, now, trendWords } = s;
  const nodesToAdd = Math.max(1, Math.ceil((used / target - capacity) / nodeSize - 1e-9));
  const after = used / (capacity + nodesToAdd * nodeSize);
  const pct = formatPercent;
  return {
    ...base,
    action: 'scale_up',
    nodesToAdd,
    nodesToRemove: 0,
    utilizationAfter: after,
    reason: `${now} is above ${pct(base.upperUtilization)}: add ${plural(nodesToAdd, 'node')} of ${formatBytes(nodeSize)} to bring it to ${pct(after)}; ${trendWords}`,
  };
}

/**
 * Below the band, with a trend known: the nodes whose removal keeps utilization at the target or under it for
 * `horizonMs` of growth, never the last node; none (no action, saying why) when not even one fits.
 */
function scaleDown(s: Sizing, growth: { nodeCount: number; slopePerMs: number; horizonMs: number }): CapacityRecommendation {
  const { base, used, capacity, target, nodeSize, now, trendWords } = s;
  const { nodeCount, slopePerMs, horizonMs } = growth;
  const pct = formatPercent;
  const size = formatBytes(nodeSize);
  const lower = base.lowerUtilization;
  const projected = used + Math.max(0, slopePerMs) * horizonMs;
  const fit = Math.floor((capacity - projected / target) / nodeSize + 1e-9);
  const nodesToRemove = Math.max(0, Math.min(nodeCount - 1, fit));
  const growthNote = slopePerMs > 0 ? ` (keeping room for ${formatDuration(horizonMs)} of growth)` : '';
  if (nodesToRemove === 0) {
    const why =
      nodeCount <= 1 ? 'the last node cannot be removed' : `removing even one node of ${size} would take it above the target${growthNote}`;
    return noAction(base, `${now} is below ${pct(lower)}, but ${why}; ${trendWords}`);
  }
  const after = used / (capacity - nodesToRemove * nodeSize);
  return {
    ...base,
    action: 'scale_down',
    nodesToAdd: 0,
    nodesToRemove,
    utilizationAfter: after,
    reason: `${now} is below ${pct(lower)}: remove ${plural(nodesToRemove, 'node')} of ${size}${growthNote} to bring it to ${pct(after)}; ${trendWords}`,
  };
}

/** Where a node's capacity comes from: the ordering below is the precedence, the filesystem only ever lowers it. */
export type NodeCapacitySource = 'registered' | 'configured' | 'filesystem' | 'unknown';

export interface NodeCapacityFacts {
  /** Given when the node was added at run time with a capacity (`nodes.addStorageNode`). */
  registeredBytes: number | null;
  /** The configured capacity for this node (STORAGE_NODE_CAPACITIES, else STORAGE_NODE_CAPACITY); null when none. */
  configuredBytes: number | null;
  /** Bytes of the node's files now. */
  usedBytes: number;
  /** Free bytes of the node's own filesystem, when its folder is one (ownFilesystemNodes); null otherwise or unknown. */
  ownFilesystemFreeBytes: number | null;
}

export interface NodeCapacity {
  /** null: nothing states it (not enforced, left out of capacity planning). */
  capacityBytes: number | null;
  source: NodeCapacitySource;
}

/**
 * A node's capacity: registered, else configured; when its folder is its own filesystem, also at most what
 * that filesystem can still take (used + free). The agent's size of a shared disk never counts: three folders
 * on one disk would each claim all of it.
 */
export function nodeCapacity(f: NodeCapacityFacts): NodeCapacity {
  const [stated, statedSource] =
    f.registeredBytes !== null
      ? [f.registeredBytes, 'registered' as const]
      : f.configuredBytes !== null
        ? [f.configuredBytes, 'configured' as const]
        : [null, 'unknown' as const];
  if (f.ownFilesystemFreeBytes === null) return { capacityBytes: stated, source: statedSource };
  const bound = f.usedBytes + Math.max(0, f.ownFilesystemFreeBytes);
  return stated !== null && stated <= bound
    ? { capacityBytes: stated, source: statedSource }
    : { capacityBytes: bound, source: 'filesystem' };
}

/**
 * The nodes whose folder is a filesystem of their own. An agent that reports its filesystem's identity (boot
 * and device ids, the data API's `filesystemId`) is compared by it: its node is on a filesystem of its own when
 * no other node reports the same id. Without one, by size (statfs): folders on one disk report the same size,
 * so a node whose size no other node reports is on its own; two separate disks of exactly the same size then
 * look shared, which only means their free space does not lower their configured capacity.
 */
export function ownFilesystemNodes(
  reports: readonly { node: string; filesystemBytes: number | null; filesystemId?: string | null }[],
): Set<string> {
  const byId = new Map<string, number>();
  const bySize = new Map<number, number>();
  for (const r of reports) {
    if (r.filesystemId) byId.set(r.filesystemId, (byId.get(r.filesystemId) ?? 0) + 1);
    else if (r.filesystemBytes !== null && r.filesystemBytes > 0) bySize.set(r.filesystemBytes, (bySize.get(r.filesystemBytes) ?? 0) + 1);
  }
  return new Set(
    reports
      .filter((r) => (r.filesystemId ? byId.get(r.filesystemId) === 1 : r.filesystemBytes !== null && bySize.get(r.filesystemBytes) === 1))
      .map((r) => r.node),
  );
}

export interface NodeRoomFacts {
  node: string;
  capacityBytes: number | null;
  usedBytes: number;
  /** Bytes on their way in and not yet counted in usedBytes (puts being written, moves not yet committed). */
  incomingBytes: number;
  /** What the put or move adds. */
  needBytes: number;
  /** How many files needBytes is for (default 1): "the file needs", "the 30 files need". */
  files?: number;
  /**
   * The size is a lower bound (a streamed upload cut off when it passed the room left): the message says
   * "needs more than what is left" instead of a size.
   */
  streamed?: boolean;
}

/**
 * NODE_FULL when putting `needBytes` more on the node would pass its capacity, with the figures in the reason
 * ("zk2 is full: 1.0 GiB of 1.0 GiB used, the file needs 128 KiB"); null when it fits or nothing states a capacity.
 */
export function checkNodeRoom(f: NodeRoomFacts): AppError | null {
  const cap = f.capacityBytes;
  if (cap === null || f.usedBytes + f.incomingBytes + f.needBytes <= cap) return null;
  const left = Math.max(0, cap - f.usedBytes - f.incomingBytes);
  const files = f.files ?? 1;
  const what = files === 1 ? 'the file needs' : `the ${files} files need`;
  const state = left < Math.max(1, cap * 0.01) ? 'is full' : 'has too little room';
  const incoming = f.incomingBytes > 0 ? ` and ${formatBytes(f.incomingBytes)} arriving` : '';
  const needs = f.streamed
    ? `${what} more than the ${formatBytes(left)} left`
    : `${what} ${formatBytes(f.needBytes)}${state === 'is full' ? '' : ` (${formatBytes(left)} left)`}`;
  return new AppError('NODE_FULL', `${f.node} ${state}: ${formatBytes(f.usedBytes)} of ${formatBytes(cap)} used${incoming}, ${needs}`, {
    node: f.node,
    capacityBytes: cap,
    usedBytes: f.usedBytes,
    incomingBytes: f.incomingBytes,
    needBytes: f.needBytes,
    leftBytes: left,
  });
}
