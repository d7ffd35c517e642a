/**
 * The scheduler's one-move planner (the seed design's build_scheduler_plan), as a pure function:
 * given file placement and node states it decides whether one file should move, from where to where,
 * and says why in words an operator can act on.
 */
import type { NodeState } from '../types.ts';

/** The few fields of a file the planner needs; lean so 100,000 of them plan in milliseconds. */
export interface PlanFile {
  uuid: string;
  name: string;
  node: string;
  sizeBytes: number;
  createdAt: string;
  historyLength: number;
  lastAction: string | null;
}

export type PlanReason =
  | 'ok'
  | 'draining'
  | 'below_threshold'
  | 'no_files'
  | 'no_candidate'
  | 'no_target'
  | 'single_target'
  | 'source_offline'
  | 'target_offline';

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
  sourceNode: string | null;
  targetNode: string | null;
  candidate: PlanCandidate | null;
  delta: number;
  threshold: number;
  totalFiles: number;
  shouldMigrate: boolean;
  reason: PlanReason;
  message: string;
  generatedAt: string;
}

export interface PlanInput {
  /** Configured nodes, in display order; ties are broken by this order so plans are deterministic. */
  nodes: readonly string[];
  /** Files newest first (the candidate is the first file found on the source). */
  files: readonly PlanFile[];
  nodeStates: readonly NodeState[];
  threshold: number;
  /** Nodes whose liveness says OFFLINE: never a source or target. */
  offlineNodes?: readonly string[];
  /** Files already being moved, which must not be picked again. */
  excludeFiles?: ReadonlySet<string>;
  now?: Date;
}

function pickBy(nodes: readonly string[], counts: Record<string, number>, better: (a: number, b: number) => boolean) {
  let best: string | null = null;
  for (const node of nodes) {
    if (best === null || better(counts[node] ?? 0, counts[best] ?? 0)) best = node;
  }
  return best;
}
const most = (a: number, b: number) => a > b;
const fewest = (a: number, b: number) => a < b;

/**
 * Rules (seed design, plus drain evacuation and liveness):
 * - source: the drained node with the most files if any drained node still holds files, else the node with the most files;
 * - target: the non-drained node with the fewest files, or, if every node is drained, the node with the fewest overall;
 * - candidate: the newest file on the source;
 * - delta = files on the busiest schedulable node - files on the target;
 * - migrate when delta >= threshold and target != source. A drained source is evacuated whatever the delta:
 *   draining is an operator's explicit request to empty the node, so the threshold (meant to avoid churn) does not hold it back.
 */
export function buildPlan(input: PlanInput): SchedulerPlan {
  const { nodes, files, threshold } = input;
  const offline = new Set(input.offlineNodes ?? []);
  const stateByNode = new Map(input.nodeStates.map((s) => [s.node, s]));

  const counts: Record<string, number> = {};
  for (const node of nodes) counts[node] = 0;
  for (const file of files) {
    if (file.node in counts) counts[file.node] = (counts[file.node] ?? 0) + 1;
  }
  const totalFiles = files.length;

  const nodeStates: SchedulerPlan['nodeStates'] = {};
  const drainedNodes: string[] = [];
  for (const node of nodes) {
    const s = stateByNode.get(node);
    const drained = s?.drained ?? false;
    if (drained) drainedNodes.push(node);
    nodeStates[node] = { drained, reason: s?.reason ?? null, updatedAt: s?.updatedAt ?? null, offline: offline.has(node) };
  }
  const drained = new Set(drainedNodes);

  const online = nodes.filter((n) => !offline.has(n));
  const drainedWithFiles = online.filter((n) => drained.has(n) && (counts[n] ?? 0) > 0);
  const sourceNode = drainedWithFiles.length > 0 ? pickBy(drainedWithFiles, counts, most) : pickBy(online, counts, most);
  const undrained = online.filter((n) => !drained.has(n));
  const targetNode = undrained.length > 0 ? pickBy(undrained, counts, fewest) : pickBy(online, counts, fewest);

  // delta measures the imbalance: the busiest schedulable node against the target. It equals source - target
  // except while a drained node is being emptied, when the source is the drained node, not the busiest.
  const busiest = pickBy(online, counts, most);
  const delta = busiest !== null && targetNode !== null ? (counts[busiest] ?? 0) - (counts[targetNode] ?? 0) : 0;
  const base = {
    counts,
    nodeStates,
    drainedNodes,
    offlineNodes: nodes.filter((n) => offline.has(n)),
    sourceNode,
    targetNode,
    delta,
    threshold,
    totalFiles,
    generatedAt: (input.now ?? new Date()).toISOString(),
  };
  const hold = (reason: PlanReason, message: string): SchedulerPlan => {
    // When nothing moves and an offline node is why (it would have been the source or the target), say that instead.
    if (offline.size > 0 && reason !== 'no_files') {
      const idealSource = pickBy(nodes, counts, most);
      const idealTarget = pickBy(nodes.filter((n) => !drained.has(n)), counts, fewest);
      if (idealSource !== null && offline.has(idealSource) && (counts[idealSource] ?? 0) > 0) {
        reason = 'source_offline';
        message = `${idealSource} holds the most files (${counts[idealSource]}) but is offline: waiting for it to return`;
      } else if (idealTarget !== null && offline.has(idealTarget)) {
        reason = 'target_offline';
        message = `${idealTarget} has the fewest files but is offline: it is not used as a target until it returns`;
      }
    }
    return { ...base, candidate: null, shouldMigrate: false, reason, message };
  };

  if (totalFiles === 0) return hold('no_files', 'no files yet: nothing to balance');

  if (sourceNode === null || targetNode === null) {
    return hold('no_target', `no node can take files: ${offline.size > 0 ? 'every node is offline' : 'no nodes are configured'}`);
  }
  if (sourceNode === targetNode) {
    return hold(
      'single_target',
      `${sourceNode} is the only node that can take files, and it is also the busiest: nowhere to move to`,
    );
  }

  const evacuating = drained.has(sourceNode) && (counts[sourceNode] ?? 0) > 0;
  if (!evacuating && delta < threshold) {
    return hold(
      'below_threshold',
      `below threshold: ${sourceNode} has ${delta} more file${delta === 1 ? '' : 's'} than ${targetNode}, threshold ${threshold}`,
    );
  }

  const exclude = input.excludeFiles;
  const file = files.find((f) => f.node === sourceNode && !(exclude?.has(f.uuid) ?? false));
  if (file === undefined) {
    return hold('no_candidate', `${sourceNode} has no file that can be moved now (all are already being moved)`);
  }
  const candidate: PlanCandidate = {
    uuid: file.uuid,
    name: file.name,
    sizeBytes: file.sizeBytes,
    createdAt: file.createdAt,
    lastAction: file.lastAction,
    historyLength: file.historyLength,
  };
  const message = evacuating
    ? `${sourceNode} is drained and still holds ${counts[sourceNode]} file${counts[sourceNode] === 1 ? '' : 's'}: moving ${file.name} to ${targetNode} (imbalance ${delta}, threshold ${threshold})`
    : `${sourceNode} has ${delta} more files than ${targetNode} (threshold ${threshold}): moving ${file.name}`;
  return { ...base, candidate, shouldMigrate: true, reason: evacuating ? 'draining' : 'ok', message };
}
