import { assertKnownNode, unknownServerStats, type NodeState, type ZkServerStats } from '@zkha/core';
import { getNodeStates, setNodeDrained, type Db } from '@zkha/db';

import type { ClusterMonitor } from './cluster.ts';
import type { AppEvents } from './events.ts';
import type { FilesService } from './files.ts';
import type { OperationsService } from './operations.ts';

export interface NodeView extends ZkServerStats {
  drained: boolean;
  drainReason: string | null;
  drainedSince: string | null;
  fileCount: number;
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
      nodes: readonly string[];
    },
  ) {}

  states(): NodeState[] {
    return getNodeStates(this.deps.db, this.deps.nodes);
  }

  drainedSet(): Set<string> {
    return new Set(this.states().filter((s) => s.drained).map((s) => s.node));
  }

  merge(stats: readonly ZkServerStats[]): NodeView[] {
    const states = new Map(this.states().map((s) => [s.node, s]));
    const counts = this.deps.files.counts();
    const byNode = new Map(stats.map((s) => [s.node, s]));
    return this.deps.nodes.map((node) => {
      const s = byNode.get(node) ?? unknownServerStats(node, '', 0, 'not probed yet', new Date(0));
      const st = states.get(node);
      return {
        ...s,
        drained: st?.drained ?? false,
        drainReason: st?.reason ?? null,
        drainedSince: st?.drained ? st.updatedAt : null,
        fileCount: counts[node] ?? 0,
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
    const before = this.states();
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
