import { AppError, NODE_NAME_PATTERN, type WholePlan } from '@zkha/core';
import {
  ensureEnsembleStorageNodes,
  getNodeStates,
  getStorageNode,
  insertStorageNode,
  listOperations,
  listStorageNodes,
  projectStorageNodes,
  setNodeDrained,
  updateStorageNode,
  type Db,
  type NodeLifecycle,
  type StorageNodeRecord,
  type StoreRecord,
} from '@zkha/db';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { FileIndex } from '../files/file-index.ts';
import type { MigrationEngine } from '../migrations/engine.ts';
import type { OperationsService } from '../logs/operations.ts';
import { LifecycleLoop, type AgentHooks } from './lifecycle-loop.ts';

export type { AgentHooks } from './lifecycle-loop.ts';

export interface DecommissionProgress {
  startedAt: string;
  filesAtStart: number;
  bytesAtStart: number;
  filesLeft: number;
  bytesLeft: number;
  /** Moves off this node queued or running now. */
  openMoves: number;
  /** 0–100, by bytes (by files when the node held only empty files). */
  percent: number;
  /** Bytes per second leaving the node since the decommission began. */
  rateBytesPerSec: number;
  etaMs: number | null;
  /** Why the drain cannot finish on its own right now (no target with room, ...); null when it is moving. */
  blocked: string | null;
}

export interface StorageNodeView {
  node: string;
  lifecycle: NodeLifecycle;
  origin: StorageNodeRecord['origin'];
  files: number;
  bytes: number;
  capacityBytes: number | null;
  weight: number | null;
  reason: string | null;
  /** When the lifecycle last changed. */
  since: string;
  store: StoreRecord['status'] | null;
  decommission: DecommissionProgress | null;
}

/**
 * The storage nodes and their lifecycle (the seed's elastic-scaling flows): joining → active → leaving →
 * removed. The ensemble's servers are storage nodes from the start; more can be added (scale-up).
 *
 * `live` is the list every other service reads for placement, planning and validation: one array, changed in
 * place when a node becomes active or is removed, so the services built over it see the change at once.
 * A leaving node stays in it, drained (emptied first, never a target); a joining or removed one is not in it.
 */
export class StorageNodesService {
  readonly live: string[] = [];
  /** Drains leaving nodes, activates joining ones, and marks emptied ones removed. */
  private readonly loop: LifecycleLoop;

  constructor(
    private readonly deps: {
      db: Db;
      index: FileIndex;
      operations: OperationsService;
      events: AppEvents;
      clock: Clock;
      ensemble: readonly string[];
      /** The whole-plan planner with the current strategy (the scheduler's dry run). */
      plan: () => WholePlan;
      engine: Pick<MigrationEngine, 'enqueue' | 'cancel' | 'openMigrations'>;
      stores: () => StoreRecord[];
      /** True when storage agents are watched: a joining node then waits for its agent to be alive. */
      livenessEnabled: boolean;
      agents?: AgentHooks | null;
      /** Each node's capacity as every service sees it (NodeCapacities); the registered one when not given. */
      capacityOf?: (node: string) => number | null;
      /** How long a leaving node with nothing in flight waits before it is planned again. */
      retryMs?: number;
    },
  ) {
    ensureEnsembleStorageNodes(deps.db, deps.ensemble);
    for (const row of listStorageNodes(deps.db)) {
      if (row.lifecycle === 'active' || row.lifecycle === 'leaving') this.live.push(row.node);
    }
    this.loop = new LifecycleLoop(deps, {
      live: this.live,
      records: () => this.records(),
      lifecycleOf: (node) => this.lifecycleOf(node),
      usage: (node) => this.usage(node),
      startRecord: (node) => this.startRecord(node),
      changed: () => this.changed(),
      emitList: () => this.deps.events.emit('lifecycle', this.list()),
    });
  }

  /**
   * Takes the records the leader wrote (another instance's lifecycle changes, audited there): the table becomes
   * them, and the live list follows (in place: every service holds this array).
   */
  applyShared(rows: readonly StorageNodeRecord[]): void {
    projectStorageNodes(this.deps.db, rows);
    const live = rows.filter((r) => r.lifecycle === 'active' || r.lifecycle === 'leaving').map((r) => r.node);
    this.live.splice(0, this.live.length, ...live);
    this.changed();
  }

  /** Every registered node, removed ones included (they stay listed, with their history). */
  records(): StorageNodeRecord[] {
    return listStorageNodes(this.deps.db);
  }

  lifecycleOf(node: string): NodeLifecycle | null {
    return getStorageNode(this.deps.db, node)?.lifecycle ?? null;
  }

  /** The capacity given when the node was added (`add`), if one was: one input of NodeCapacities, not the whole answer. */
  registeredCapacityOf(node: string): number | null {
    return getStorageNode(this.deps.db, node)?.capacityBytes ?? null;
  }

  weightOf(node: string): number | null {
    return getStorageNode(this.deps.db, node)?.weight ?? null;
  }

  list(): StorageNodeView[] {
    const stores = new Map(this.deps.stores().map((s) => [s.node, s]));
    const capacityOf = this.deps.capacityOf ?? ((node: string) => this.registeredCapacityOf(node));
    const open = this.deps.engine.openMigrations();
    return this.records().map((r) => {
      const usage = this.usage(r.node);
      return {
        node: r.node,
        lifecycle: r.lifecycle,
        origin: r.origin,
        files: usage.files,
        bytes: usage.bytes,
        capacityBytes: capacityOf(r.node),
        weight: r.weight,
        reason: r.reason,
        since: r.updatedAt,
        store: stores.get(r.node)?.status ?? null,
        decommission:
          r.lifecycle === 'leaving' ? this.decommissionProgress(r, usage, open.filter((t) => t.source === r.node).length) : null,
      };
    });
  }

  private decommissionProgress(r: StorageNodeRecord, usage: { files: number; bytes: number }, openMoves: number): DecommissionProgress {
    const started = this.startRecord(r.node);
    const startedAt = started?.timestamp ?? r.updatedAt;
    const filesAtStart = Math.max(usage.files, Number(started?.details.files ?? usage.files));
    const bytesAtStart = Math.max(usage.bytes, Number(started?.details.bytes ?? usage.bytes));
    const elapsedMs = Math.max(1, this.deps.clock.now().getTime() - Date.parse(startedAt));
    const movedBytes = bytesAtStart - usage.bytes;
    const rate = (movedBytes / elapsedMs) * 1000;
    const percent =
      bytesAtStart > 0 ? (movedBytes / bytesAtStart) * 100 : filesAtStart > 0 ? ((filesAtStart - usage.files) / filesAtStart) * 100 : 100;
    return {
      startedAt,
      filesAtStart,
      bytesAtStart,
      filesLeft: usage.files,
      bytesLeft: usage.bytes,
      openMoves,
      percent: Math.round(percent * 10) / 10,
      rateBytesPerSec: Math.round(rate),
      etaMs: rate > 0 ? Math.round((usage.bytes / rate) * 1000) : null,
      blocked: openMoves === 0 && usage.files > 0 ? this.loop.blocked(r.node) : null,
    };
  }

  /** The operation that began the current decommission: its details hold the node's files and bytes then. */
  private startRecord(node: string) {
    return listOperations(this.deps.db, { action: 'decommission_start', node, limit: 1 }).items[0] ?? null;
  }

  private get(node: string): StorageNodeRecord {
    const row = getStorageNode(this.deps.db, node);
    if (!row) {
      const known = this.records().map((r) => r.node);
      throw new AppError('NODE_NOT_FOUND', `unknown storage node "${node}": expected one of ${known.join(', ')}`, { node, nodes: known });
    }
    return row;
  }

  private usage(node: string): { files: number; bytes: number } {
    return this.deps.index.usage(node);
  }

  private changed(): void {
    this.deps.events.emit('changed', { kind: 'lifecycle' });
    this.deps.events.emit('lifecycle', this.list());
  }

  /**
   * Graceful removal: marks the node leaving (drained, so it is emptied first and never a target) and queues
   * moves for all of its files under the migration caps. When it holds nothing and nothing is in flight, the
   * lifecycle loop marks it removed.
   */
  decommission(node: string, reason?: string): StorageNodeView {
    const row = this.get(node);
    if (row.lifecycle !== 'active') {
      throw new AppError('CONFLICT', `${node} is ${row.lifecycle}: only an active node can be decommissioned`, {
        node,
        lifecycle: row.lifecycle,
      });
    }
    const others = this.records().filter((r) => r.node !== node && r.lifecycle === 'active');
    if (others.length === 0) {
      throw new AppError('CONFLICT', `${node} is the last active storage node: add a node before decommissioning it`, { node });
    }
    const usage = this.usage(node);
    const drainedBefore = getNodeStates(this.deps.db, [node])[0]?.drained ?? false;
    const why = reason?.trim() || 'decommissioned by operator';
    this.deps.db.transaction((tx) => {
      updateStorageNode(tx, node, { lifecycle: 'leaving', reason: why });
      setNodeDrained(tx, node, true, `decommissioning: ${why}`);
    });
    this.deps.operations.record({
      action: 'decommission_start',
      node,
      status: 'success',
      details: { reason: why, files: usage.files, bytes: usage.bytes, wasDrained: drainedBefore },
      beforeMetrics: { lifecycle: 'active', files: usage.files, bytes: usage.bytes },
      afterMetrics: { lifecycle: 'leaving' },
    });
    this.loop.drainRound(node);
    this.changed();
    return this.view(node);
  }

  /** Stops a decommission: the queued moves off the node are cancelled and the node is active again. */
  cancelDecommission(node: string): StorageNodeView {
    const row = this.get(node);
    if (row.lifecycle !== 'leaving')
      throw new AppError('CONFLICT', `${node} is ${row.lifecycle}, not leaving: there is no decommission to cancel`, {
        node,
        lifecycle: row.lifecycle,
      });
    let cancelled = 0;
    for (const t of this.deps.engine.openMigrations()) {
      if (t.source !== node) continue;
      try {
        this.deps.engine.cancel(t.id);
        cancelled++;
      } catch (err) {
        // Finished between the listing and the cancel: nothing to undo for that one.
        if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
      }
    }
    const usage = this.usage(node);
    const wasDrained = this.startRecord(node)?.details.wasDrained === true;
    this.deps.db.transaction((tx) => {
      updateStorageNode(tx, node, { lifecycle: 'active', reason: 'decommission cancelled' });
      if (!wasDrained) setNodeDrained(tx, node, false, null);
    });
    this.loop.forget(node);
    this.deps.operations.record({
      action: 'decommission_cancel',
      node,
      status: 'success',
      details: { cancelledMoves: cancelled, filesLeft: usage.files },
      beforeMetrics: { lifecycle: 'leaving' },
      afterMetrics: { lifecycle: 'active', files: usage.files, bytes: usage.bytes },
    });
    this.changed();
    return this.view(node);
  }

  /** Undoes a removal: the node joins again (its agent restarted if it is one of ours) and is rebalanced toward. */
  reactivate(node: string): StorageNodeView {
    const row = this.get(node);
    if (row.lifecycle !== 'removed')
      throw new AppError('CONFLICT', `${node} is ${row.lifecycle}: only a removed node can be reactivated`, {
        node,
        lifecycle: row.lifecycle,
      });
    this.deps.db.transaction((tx) => {
      updateStorageNode(tx, node, { lifecycle: 'joining', reason: 'reactivated by operator' });
      setNodeDrained(tx, node, false, null);
    });
    if (row.origin === 'added') this.deps.agents?.start(node);
    this.deps.operations.record({
      action: 'node_reactivate',
      node,
      status: 'success',
      details: {},
      beforeMetrics: { lifecycle: 'removed' },
      afterMetrics: { lifecycle: 'joining' },
    });
    this.tick();
    this.changed();
    return this.view(node);
  }

  /**
   * Scale-up: registers a new storage node (and starts its agent where zkha runs agents) as joining; the
   * lifecycle loop makes it active once its agent is alive, then rebalances toward it with the current strategy.
   */
  async add(input: { node: string; capacityBytes?: number | null; weight?: number | null }): Promise<StorageNodeView> {
    const { node } = input;
    if (!NODE_NAME_PATTERN.test(node)) {
      throw new AppError(
        'BAD_INPUT',
        `invalid node name "${node}": lower-case letters, digits, - and _, starting with a letter, at most 32 characters`,
        { node },
      );
    }
    const existing = getStorageNode(this.deps.db, node);
    if (existing) {
      const hint = existing.lifecycle === 'removed' ? ': reactivate it instead' : '';
      throw new AppError('CONFLICT', `storage node ${node} already exists (${existing.lifecycle})${hint}`, {
        node,
        lifecycle: existing.lifecycle,
      });
    }
    insertStorageNode(this.deps.db, {
      node,
      lifecycle: 'joining',
      origin: 'added',
      capacityBytes: input.capacityBytes ?? null,
      weight: input.weight ?? null,
      reason: 'added by operator',
    });
    this.deps.agents?.start(node);
    this.deps.operations.record({
      action: 'node_add',
      node,
      status: 'success',
      details: { capacityBytes: input.capacityBytes ?? null, weight: input.weight ?? null, agent: this.deps.agents ? 'started' : 'none' },
      afterMetrics: { lifecycle: 'joining' },
    });
    this.tick();
    this.changed();
    return this.view(node);
  }

  private view(node: string): StorageNodeView {
    const v = this.list().find((n) => n.node === node);
    if (!v) throw new AppError('NODE_NOT_FOUND', `unknown storage node "${node}"`);
    return v;
  }

  /** One pass of the lifecycle loop (see LifecycleLoop.tick). */
  tick(): void {
    this.loop.tick();
  }

  start(intervalMs = 1_000): void {
    this.loop.start(intervalMs);
  }

  stop(): void {
    this.loop.stop();
  }
}
