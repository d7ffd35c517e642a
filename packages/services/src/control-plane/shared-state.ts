/**
 * The settings every instance must agree on (node drains, scheduler settings, migration caps and policy), one znode
 * each under /zkha/state. The leader writes a key whenever it changes (fenced by its election znode); followers
 * watch the znodes and apply what they read to their own database and services, silently (the change is the
 * leader's, audited there). A new leader starts from what the znodes say; a key without a znode yet (the first
 * leader of a deployment) is written from this instance's values.
 */
import type { NodeState } from '@zkha/core';
import type { StorageNodeRecord } from '@zkha/db';
import { isZkError, type ZkSession } from '@zkha/zk';

import { NotLeaderError } from '../files/file-metadata.ts';
import type { AppEventMap, AppEvents } from '../shared/event-bus.ts';

export const ZK_STATE_ROOT = '/zkha/state';
/** How soon a failed read of a key is tried again. */
const RETRY_MS = 1_000;

export interface SharedKey<T> {
  /** This instance's current value. */
  read(): T;
  /** Makes a value read from ZooKeeper this instance's own, without auditing it again. */
  apply(value: T): void;
}

export class SharedState {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly keys = new Map<string, SharedKey<any>>();
  private following = false;
  /** The last value written or applied per key, so an echo of our own write is not applied back. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly session: ZkSession,
    private readonly fence: () => string | null,
  ) {
    session.on('renewed', () => {
      if (this.following) void this.follow().catch(() => undefined);
    });
  }

  register<T>(key: string, k: SharedKey<T>): void {
    this.keys.set(key, k);
  }

  private path(key: string): string {
    return `${ZK_STATE_ROOT}/${key}`;
  }

  async init(): Promise<void> {
    await this.session.client.mkdirp(ZK_STATE_ROOT);
  }

  /** The leader writes a key's current value (a no-op when this instance does not lead). */
  async publish(key: string): Promise<void> {
    const k = this.keys.get(key);
    const fence = this.fence();
    if (!k || fence === null) return;
    const data = JSON.stringify(k.read());
    if (this.seen.get(key) === data) return;
    const client = this.session.client;
    const path = this.path(key);
    const tx = client.transaction().check(fence);
    if (await client.exists(path)) tx.set(path, data);
    else tx.create(path, data);
    try {
      await tx.commit();
      this.seen.set(key, data);
    } catch (err) {
      if (!(await client.exists(fence).catch(() => true))) throw new NotLeaderError();
      throw err;
    }
  }

  /** A new leader: every key from its znode, or (none yet) written from this instance's value. */
  async load(): Promise<void> {
    this.following = false;
    for (const key of this.keys.keys()) {
      const data = await this.session.client.get(this.path(key)).catch((err: unknown) => {
        if (isZkError(err, 'NO_NODE')) return null;
        throw err;
      });
      if (data?.data) this.applyRaw(key, data.data.toString('utf8'));
      else await this.publish(key);
    }
  }

  /** A follower: applies every key now and whenever the leader writes it. */
  async follow(): Promise<void> {
    this.following = true;
    await Promise.all([...this.keys.keys()].map((key) => this.watch(key)));
  }

  stop(): void {
    this.following = false;
  }

  /** Reads a key and watches it; a read that fails (no quorum, a session being replaced) is tried again shortly. */
  private async watch(key: string): Promise<void> {
    if (!this.following) return;
    try {
      const data = await this.session.client.watchData(this.path(key), () => void this.watch(key));
      if (data?.data) this.applyRaw(key, data.data.toString('utf8'));
    } catch {
      setTimeout(() => void this.watch(key), RETRY_MS).unref();
    }
  }

  private applyRaw(key: string, raw: string): void {
    if (this.seen.get(key) === raw) return;
    this.seen.set(key, raw);
    try {
      this.keys.get(key)?.apply(JSON.parse(raw));
    } catch {
      // A value this version cannot read: keep ours (the leader's next write replaces it).
    }
  }
}

/** The shared keys a change of each kind ('changed' on the bus) makes the leader write again. */
const KEYS_BY_CHANGE: Partial<Record<AppEventMap['changed'][0]['kind'], readonly string[]>> = {
  drain: ['drains'],
  config: ['scheduler', 'migrations'],
  lifecycle: ['storage-nodes'],
};

/** While this instance leads, each change of a shared setting is written to its znode. */
export function publishSharedOnChange(settings: SharedState, events: AppEvents, isLeader: () => boolean): void {
  events.on('changed', (e) => {
    if (!isLeader()) return;
    for (const key of KEYS_BY_CHANGE[e.kind] ?? []) void settings.publish(key).catch(() => undefined);
  });
}

/**
 * The settings every instance shares, one key each: the node drains, the storage nodes, the scheduler's settings
 * and the migrations' (caps, policy, pause); while this instance leads, each change of one is written to its znode.
 */
export function shareSettings<S, M>(
  settings: SharedState,
  events: AppEvents,
  isLeader: () => boolean,
  from: {
    drains: { states(): NodeState[]; applyShared(states: NodeState[]): void };
    storageNodes: { records(): StorageNodeRecord[]; applyShared(rows: StorageNodeRecord[]): void };
    scheduler: { getConfig(): S; applyShared(config: S): void };
    engine: { sharedSettings(): M; applyShared(value: M): void };
  },
): void {
  const { drains, storageNodes, scheduler, engine } = from;
  settings.register<NodeState[]>('drains', { read: () => drains.states(), apply: (states) => drains.applyShared(states) });
  settings.register<StorageNodeRecord[]>('storage-nodes', {
    read: () => storageNodes.records(),
    apply: (rows) => storageNodes.applyShared(rows),
  });
  settings.register<S>('scheduler', { read: () => scheduler.getConfig(), apply: (c) => scheduler.applyShared(c) });
  settings.register<M>('migrations', {
    read: () => engine.sharedSettings(),
    apply: (v) => engine.applyShared(v),
  });
  publishSharedOnChange(settings, events, isLeader);
}
