import {
  AppError,
  assertKnownNode,
  quorumImpact,
  unknownServerStats,
  type NodeAction,
  type NodeController,
  type NodeRuntimeStatus,
  type NodeState,
  type QuorumImpact,
  type ZkServerStats,
} from '@zkha/core';
import type { NodeLifecycle, StoreRecord } from '@zkha/db';
import { getNodeStates, projectNodeStates, setNodeDrained, type Db } from '@zkha/db';

import type { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { FilesService } from '../files/files.ts';
import type { OperationsService } from '../logs/operations.ts';

export interface NodeView extends ZkServerStats {
  drained: boolean;
  drainReason: string | null;
  drainedSince: string | null;
  fileCount: number;
  /** Where the server's storage role stands (null: never registered as a storage node). */
  lifecycle: NodeLifecycle | null;
  /** Liveness of the node's storage agent (null when liveness is not monitored). */
  store: { status: StoreRecord['status']; reason: string | null; lastChange: string } | null;
}

export interface NodeActionResult {
  node: string;
  action: NodeAction;
  impact: QuorumImpact;
  before: NodeRuntimeStatus;
  after: NodeRuntimeStatus;
  durationMs: number;
}

/** One view per node: what the server says about itself, plus what zkha keeps about it (drain, files). */
export class NodesService {
  constructor(
    private readonly deps: {
      db: Db;
      cluster: ClusterMonitor;
      files: FilesService;
      operations: OperationsService;
      events: AppEvents;
      /** Storage nodes in placement now (active and leaving): drain and undrain apply to these. */
      nodes: readonly string[];
      /** The ensemble's servers: node control and the node cards apply to these. */
      members?: readonly string[];
      lifecycleOf?: (node: string) => NodeLifecycle | null;
      controller: NodeController | null;
      stores: () => StoreRecord[];
    },
  ) {}

  private get members(): readonly string[] {
    return this.deps.members ?? this.deps.nodes;
  }

  get controlKind(): NodeController['kind'] {
    return this.deps.controller?.kind ?? 'disabled';
  }

  private controller(): NodeController {
    const c = this.deps.controller;
    if (!c || c.kind === 'disabled') {
      throw new AppError(
        'NOT_SUPPORTED',
        'node control is disabled: set DOCKER_CONTROL_ENABLED=true for the docker deployment (the embedded default always has it)',
      );
    }
    return c;
  }

  /** What stopping, starting, restarting or killing a node would do to the quorum, in words. */
  async impact(node: string, action: NodeAction): Promise<QuorumImpact> {
    assertKnownNode(this.members, node);
    const stats = await this.deps.cluster.stats();
    // A server in an election is not serving but still votes: count every server that answers at all.
    return quorumImpact(
      node,
      action,
      this.members.map((n) => ({ node: n, up: stats.find((s) => s.node === n)?.reachable ?? false })),
    );
  }

  async runtime(node: string): Promise<NodeRuntimeStatus> {
    assertKnownNode(this.members, node);
    return this.controller().status(node);
  }

  /** Performs a node action and records it with the state before and after, success or not. */
  async control(node: string, action: NodeAction, actor = 'operator'): Promise<NodeActionResult> {
    assertKnownNode(this.members, node);
    const controller = this.controller();
    const impact = await this.impact(node, action);
    const before = await controller.status(node);
    const summaryBefore = this.deps.cluster.summary();
    const started = Date.now();
    try {
      await controller[action](node);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.deps.operations.record({
        action: `node_${action}`,
        node,
        status: 'failed',
        details: { actor, driver: controller.kind, impact: impact.message, error: message },
        beforeMetrics: { runtime: before, cluster: summaryBefore },
        afterMetrics: null,
      });
      throw err;
    }
    const after = await controller.status(node);
    const stats = await this.deps.cluster.refresh().catch(() => this.deps.cluster.cached());
    const durationMs = Date.now() - started;
    this.deps.operations.record({
      action: `node_${action}`,
      node,
      status: 'success',
      details: { actor, driver: controller.kind, impact: impact.message, durationMs },
      beforeMetrics: { runtime: before, cluster: summaryBefore },
      afterMetrics: { runtime: after, cluster: this.deps.cluster.summary(stats) },
    });
    return { node, action, impact, before, after, durationMs };
  }

  states(): NodeState[] {
    return getNodeStates(this.deps.db, [...new Set([...this.members, ...this.deps.nodes])]);
  }

  /** Takes the drains the leader wrote (another instance's change, audited there): nothing recorded here. */
  applyShared(states: readonly NodeState[]): void {
    projectNodeStates(this.deps.db, states);
    this.deps.events.emit('changed', { kind: 'drain' });
  }

  drainedSet(): Set<string> {
    return new Set(
      this.states()
        .filter((s) => s.drained)
        .map((s) => s.node),
    );
  }

  merge(stats: readonly ZkServerStats[]): NodeView[] {
    const states = new Map(this.states().map((s) => [s.node, s]));
    const counts = this.deps.files.counts();
    const byNode = new Map(stats.map((s) => [s.node, s]));
    const stores = new Map(this.deps.stores().map((r) => [r.node, r]));
    return this.members.map((node) => {
      const s = byNode.get(node) ?? unknownServerStats(node, '', 0, 'not probed yet', new Date(0));
      const st = states.get(node);
      return {
        ...s,
        drained: st?.drained ?? false,
        drainReason: st?.reason ?? null,
        drainedSince: st?.drained ? st.updatedAt : null,
        fileCount: counts[node] ?? 0,
        lifecycle: this.deps.lifecycleOf?.(node) ?? null,
        store: ((r) => (r ? { status: r.status, reason: r.reason, lastChange: r.lastChange } : null))(stores.get(node)),
      };
    });
  }

  async list(): Promise<NodeView[]> {
    return this.merge(await this.deps.cluster.stats());
  }

  drain(node: string, reason: string | undefined): NodeState {
    return this.setDrained(node, true, reason?.trim() || 'drained by operator');
  }

  undrain(node: string): NodeState {
    return this.setDrained(node, false, null);
  }

  private setDrained(node: string, drained: boolean, reason: string | null): NodeState {
    assertKnownNode(this.deps.nodes, node);
    const lifecycle = this.deps.lifecycleOf?.(node) ?? null;
    if (lifecycle === 'leaving') {
      throw new AppError(
        'CONFLICT',
        `${node} is being decommissioned: cancel the decommission instead of ${drained ? 'draining' : 'undraining'} it`,
        { node, lifecycle },
      );
    }
    const before = this.states();
    const current = before.find((s) => s.node === node);
    // Undraining a node that is not drained changes nothing: no write, no audit noise.
    if (!drained && current && !current.drained) return current;
    const counts = this.deps.files.counts();
    const state = setNodeDrained(this.deps.db, node, drained, reason);
    const after = this.states();
    const drainedOf = (s: NodeState[]) => s.filter((x) => x.drained).map((x) => x.node);
    this.deps.operations.record({
      action: drained ? 'drain' : 'undrain',
      node,
      status: 'success',
      details: { reason },
      beforeMetrics: { counts, drainedNodes: drainedOf(before) },
      afterMetrics: { counts, drainedNodes: drainedOf(after) },
    });
    this.deps.events.emit('changed', { kind: 'drain' });
    return state;
  }
}
