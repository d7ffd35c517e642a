import type { OperationRecord, PlannedMove, WholePlan } from '@zkha/core';
import { updateStorageNode, type Db, type NodeLifecycle, type StorageNodeRecord, type StoreRecord } from '@zkha/db';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { MigrationEngine } from '../migrations/engine.ts';
import type { OperationsService } from '../logs/operations.ts';

/** Starts or stops the storage agent of a node that is not an ensemble server (scale-up on the embedded default). */
export interface AgentHooks {
  start(node: string): void;
  stop(node: string): Promise<void>;
}

interface DrainRound {
  at: number;
  blocked: string | null;
}

/** The adapters the lifecycle loop uses (a subset of StorageNodesService's deps). */
export interface LifecycleLoopDeps {
  db: Db;
  operations: OperationsService;
  events: AppEvents;
  clock: Clock;
  plan: () => WholePlan;
  engine: Pick<MigrationEngine, 'enqueue' | 'openMigrations'>;
  stores: () => StoreRecord[];
  livenessEnabled: boolean;
  agents?: AgentHooks | null;
  retryMs?: number;
}

/** What the lifecycle loop reads and changes on the StorageNodesService it runs for. */
export interface LifecycleLoopHost {
  /** The live list, changed in place (every service holds this array). */
  readonly live: string[];
  records(): StorageNodeRecord[];
  lifecycleOf(node: string): NodeLifecycle | null;
  usage(node: string): { files: number; bytes: number };
  /** The operation that began the node's current decommission. */
  startRecord(node: string): OperationRecord | null;
  /** A lifecycle change: emits `changed` and the node list. */
  changed(): void;
  /** Emits the node list (`lifecycle`) without a lifecycle change. */
  emitList(): void;
}

/**
 * The lifecycle loop: joining nodes become active once their agent is alive (and are rebalanced toward), leaving
 * nodes are drained round by round and become removed once empty. It remembers each leaving node's last drain
 * round: when, and what blocked it.
 */
export class LifecycleLoop {
  private timer: NodeJS.Timeout | null = null;
  /** The last drain round per leaving node: when, and what blocked it. */
  private readonly rounds = new Map<string, DrainRound>();

  constructor(
    private readonly deps: LifecycleLoopDeps,
    private readonly host: LifecycleLoopHost,
  ) {}

  /** What blocked the node's last drain round; null when nothing did, or no round ran. */
  blocked(node: string): string | null {
    return this.rounds.get(node)?.blocked ?? null;
  }

  /** Forgets the node's drain rounds (its decommission was cancelled). */
  forget(node: string): void {
    this.rounds.delete(node);
  }

  /** Queues moves for every file still on a leaving node; remembers what blocked the rest. */
  drainRound(node: string): void {
    const plan = this.deps.plan();
    const moves: PlannedMove[] = plan.moves.filter((m) => m.from === node);
    const queued = moves.length > 0 ? this.deps.engine.enqueue(moves, { priority: 6 }) : [];
    const left = this.host.usage(node).files - queued.length;
    this.rounds.set(node, {
      at: this.deps.clock.now().getTime(),
      blocked: left > 0 && queued.length === 0 ? plan.blocked.join('; ') || `no target can take the ${left} file(s) left on ${node}` : null,
    });
  }

  private rebalance(node: string): number {
    const plan = this.deps.plan();
    const queued = plan.moves.length > 0 ? this.deps.engine.enqueue(plan.moves, { priority: 5 }) : [];
    this.deps.operations.record({
      action: 'node_rebalance',
      node,
      status: 'success',
      details: {
        strategy: plan.strategy,
        moves: queued.length,
        bytes: queued.reduce((a, t) => a + t.bytes, 0),
        spreadBefore: plan.spreadBefore,
        spreadAfter: plan.spreadAfter,
        unit: plan.unit,
      },
    });
    return queued.length;
  }

  /**
   * One pass of the lifecycle loop: joining nodes whose agent is alive become active (and are rebalanced
   * toward); leaving nodes that hold nothing, with nothing in flight, become removed; leaving nodes whose
   * moves all ended but still hold files (a failed move, a late upload) are planned again.
   */
  tick(): void {
    const open = this.deps.engine.openMigrations();
    const stores = new Map(this.deps.stores().map((s) => [s.node, s.status]));
    let changed = false;
    for (const r of this.host.records()) {
      if (r.lifecycle === 'joining') {
        if (this.deps.livenessEnabled && stores.get(r.node) !== 'OK') continue;
        updateStorageNode(this.deps.db, r.node, { lifecycle: 'active', reason: r.reason });
        if (!this.host.live.includes(r.node)) this.host.live.push(r.node);
        this.deps.operations.record({
          action: 'node_active',
          node: r.node,
          status: 'success',
          details: { origin: r.origin },
          beforeMetrics: { lifecycle: 'joining' },
          afterMetrics: { lifecycle: 'active' },
        });
        this.deps.events.emit('changed', { kind: 'lifecycle' });
        this.rebalance(r.node);
        changed = true;
      } else if (r.lifecycle === 'leaving') {
        const usage = this.host.usage(r.node);
        const inFlight = open.some((t) => t.source === r.node || t.target === r.node);
        if (usage.files === 0 && !inFlight) {
          this.finishDecommission(r);
          changed = true;
        } else if (!inFlight) {
          const last = this.rounds.get(r.node);
          if (!last || this.deps.clock.now().getTime() - last.at >= (this.deps.retryMs ?? 5_000)) {
            this.drainRound(r.node);
            changed = true;
          }
        }
      }
    }
    if (changed) this.host.changed();
    // A running decommission's progress and ETA move without any lifecycle change: stream them anyway.
    else if (this.host.live.some((n) => this.host.lifecycleOf(n) === 'leaving')) this.host.emitList();
  }

  private finishDecommission(r: StorageNodeRecord): void {
    const started = this.host.startRecord(r.node);
    const startedAt = started?.timestamp ?? r.updatedAt;
    updateStorageNode(this.deps.db, r.node, { lifecycle: 'removed', reason: r.reason });
    const i = this.host.live.indexOf(r.node);
    if (i >= 0) this.host.live.splice(i, 1);
    this.rounds.delete(r.node);
    if (r.origin === 'added') void this.deps.agents?.stop(r.node).catch(() => undefined);
    this.deps.operations.record({
      action: 'decommission_complete',
      node: r.node,
      status: 'success',
      details: {
        filesMoved: Number(started?.details.files ?? 0),
        bytesMoved: Number(started?.details.bytes ?? 0),
        durationMs: this.deps.clock.now().getTime() - Date.parse(startedAt),
      },
      beforeMetrics: { lifecycle: 'leaving' },
      afterMetrics: { lifecycle: 'removed', files: 0 },
    });
    this.deps.events.emit('changed', { kind: 'lifecycle' });
  }

  start(intervalMs = 1_000): void {
    this.stop();
    // Added nodes' agents are ours to run (the ensemble's own start with their servers).
    for (const r of this.host.records()) if (r.origin === 'added' && r.lifecycle !== 'removed') this.deps.agents?.start(r.node);
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch {
        // A failed pass (database busy, no quorum for a plan) is retried on the next one.
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
