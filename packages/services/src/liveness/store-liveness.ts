import { STORES_ROOT, type AliveRecord } from '@zkha/agent';
import { deleteStore, getStore, listStores, upsertStore, type Db, type StoreRecord, type StoreStatus } from '@zkha/db';
import type { ZkSession } from '@zkha/zk';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { OperationsService } from '../logs/operations.ts';

export interface StoreRepair {
  node: string;
  from: StoreStatus | 'missing';
  to: StoreStatus;
  reason: string;
}

export interface LivenessOptions {
  db: Db;
  session: ZkSession;
  nodes: readonly string[];
  operations: OperationsService;
  events: AppEvents;
  clock: Clock;
  /** Full reconciliation period (default 30 s). */
  reconcileIntervalMs: number;
  /** An alive znode whose heartbeat is older than this many of its own intervals is SUSPECT. */
  suspectAfterBeats?: number;
  onTransition?: (node: string, from: StoreStatus | 'missing', to: StoreStatus) => void;
}

/** The console's line for a storage agent's change: a first sighting is "up", not "back". */
export function storeTransitionMessage(node: string, from: StoreStatus | 'missing', to: StoreStatus): string {
  if (to === 'OFFLINE') return `${node} storage agent is OFFLINE`;
  if (to === 'SUSPECT') return `${node} storage agent is SUSPECT (no heartbeat)`;
  return from === 'missing' ? `${node} storage agent is up (OK)` : `${node} storage agent is back (OK)`;
}

interface Observed {
  status: StoreStatus;
  reason: string;
  alive: AliveRecord | null;
}

/**
 * The control plane's view of storage-node liveness (the storage-conductor pattern): a watch on
 * `/zkha/stores` for new stores and on each `alive` znode for created/deleted/changed, re-armed after every
 * event, written through to the `stores` table; and a periodic full reconciliation that repairs the table
 * whatever happened to it (emptied, edited by hand, events missed while disconnected).
 */
export class LivenessMonitor {
  private readonly watchedAlive = new Set<string>();
  private readonly lastAlive = new Map<string, AliveRecord | null>();
  private reconcileTimer: NodeJS.Timeout | null = null;
  private suspectTimer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly o: LivenessOptions) {
    o.session.on('renewed', () => {
      // Watches die with the session: arm them again on the new one, then check everything.
      this.watchedAlive.clear();
      if (this.running)
        void this.armRoot()
          .then(() => this.reconcile())
          .catch(() => undefined);
    });
  }

  async start(): Promise<void> {
    this.running = true;
    await this.o.session.client.mkdirp(STORES_ROOT);
    await this.armRoot();
    await this.reconcile();
    this.reconcileTimer = setInterval(() => void this.reconcile().catch(() => undefined), this.o.reconcileIntervalMs);
    this.reconcileTimer.unref();
    this.suspectTimer = setInterval(() => this.checkHeartbeats(), 1_000);
    this.suspectTimer.unref();
  }

  stop(): void {
    this.running = false;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    if (this.suspectTimer) clearInterval(this.suspectTimer);
  }

  list(): StoreRecord[] {
    return listStores(this.o.db);
  }

  /** The node's latest alive record (its address, heartbeat and filesystem figures); null while it is offline. */
  alive(node: string): AliveRecord | null {
    return this.lastAlive.get(node) ?? null;
  }

  offlineNodes(): string[] {
    return this.list()
      .filter((s) => s.status === 'OFFLINE')
      .map((s) => s.node);
  }

  private async armRoot(): Promise<void> {
    if (!this.running) return;
    const kids = await this.o.session.client.watchChildren(STORES_ROOT, () => void this.armRoot().catch(() => undefined));
    for (const node of kids) if (!this.watchedAlive.has(node)) await this.armAlive(node);
  }

  private async armAlive(node: string): Promise<void> {
    if (!this.running) return;
    this.watchedAlive.add(node);
    const data = await this.o.session.client.watchData(`${STORES_ROOT}/${node}/alive`, () => {
      this.watchedAlive.delete(node);
      void this.armAlive(node).catch(() => undefined);
    });
    this.apply(node, this.observe(data?.data ?? null));
  }

  private observe(data: Buffer | null): Observed {
    if (data === null) return { status: 'OFFLINE', reason: 'no alive znode: the agent or its ZooKeeper session is gone', alive: null };
    let alive: AliveRecord;
    try {
      alive = JSON.parse(data.toString('utf8')) as AliveRecord;
    } catch {
      return { status: 'SUSPECT', reason: 'alive znode holds unreadable data', alive: null };
    }
    const age = this.o.clock.now().getTime() - Date.parse(alive.heartbeatAt);
    const limit = (this.o.suspectAfterBeats ?? 3) * alive.heartbeatIntervalMs;
    if (!(age <= limit))
      return { status: 'SUSPECT', reason: `alive but no heartbeat for ${Math.round(age)} ms (limit ${limit} ms)`, alive };
    return { status: 'OK', reason: 'alive znode present and heartbeating', alive };
  }

  /** Writes an observation through to the table; a status change is recorded and announced. */
  private apply(node: string, obs: Observed): StoreRepair | null {
    this.lastAlive.set(node, obs.alive);
    const now = this.o.clock.now().toISOString();
    const row = getStore(this.o.db, node);
    const changed = !row || row.status !== obs.status;
    const next: StoreRecord = {
      node,
      status: obs.status,
      address: obs.alive?.address ?? row?.address ?? null,
      capacityBytes: obs.alive?.capacityBytes ?? row?.capacityBytes ?? null,
      startedAt: obs.alive?.startedAt ?? row?.startedAt ?? null,
      heartbeatAt: obs.alive?.heartbeatAt ?? row?.heartbeatAt ?? null,
      lastChange: changed ? now : row.lastChange,
      reason: obs.reason,
      updatedAt: now,
    };
    upsertStore(this.o.db, next);
    if (!changed) return null;
    const from = row?.status ?? 'missing';
    this.o.onTransition?.(node, from, obs.status);
    if (row || obs.status !== 'OK') {
      const action = obs.status === 'OFFLINE' ? 'store_offline' : obs.status === 'SUSPECT' ? 'store_suspect' : 'store_online';
      this.o.operations.record({
        action,
        node,
        status: 'success',
        details: { level: obs.status === 'OK' ? 'info' : 'alert', from, to: obs.status, reason: obs.reason },
        beforeMetrics: { status: from },
        afterMetrics: { status: obs.status },
      });
      this.o.events.emit('changed', { kind: 'liveness' });
    }
    return { node, from, to: obs.status, reason: obs.reason };
  }

  private checkHeartbeats(): void {
    for (const row of this.list()) {
      if (row.status === 'OFFLINE') continue;
      const alive = this.lastAlive.get(row.node);
      if (!alive) continue;
      const obs = this.observe(Buffer.from(JSON.stringify(alive)));
      if (obs.status !== row.status) this.apply(row.node, obs);
    }
  }

  /**
   * Reads every store from ZooKeeper and makes the table say the same: missing rows added, wrong statuses
   * fixed, rows of unknown stores marked OFFLINE. Records what it repaired; never throws on an empty table.
   */
  async reconcile(): Promise<{ repairs: StoreRepair[]; checked: number }> {
    const zk = this.o.session.client;
    const inZk = await zk.children(STORES_ROOT).catch(() => [] as string[]);
    const nodes = [...new Set([...this.o.nodes, ...inZk])].sort();
    const repairs: StoreRepair[] = [];
    for (const node of nodes) {
      const data = inZk.includes(node) ? ((await zk.get(`${STORES_ROOT}/${node}/alive`).catch(() => null))?.data ?? null) : null;
      const repair = this.apply(node, this.observe(data));
      if (repair) repairs.push(repair);
      if (inZk.includes(node) && !this.watchedAlive.has(node)) await this.armAlive(node).catch(() => undefined);
    }
    for (const row of this.list()) {
      if (!nodes.includes(row.node)) {
        deleteStore(this.o.db, row.node);
        repairs.push({
          node: row.node,
          from: row.status,
          to: 'OFFLINE',
          reason: 'not a configured node and not in ZooKeeper: row removed',
        });
      }
    }
    if (repairs.length > 0) {
      this.o.operations.record({ action: 'stores_reconcile', node: null, status: 'success', details: { checked: nodes.length, repairs } });
    }
    return { repairs, checked: nodes.length };
  }
}
