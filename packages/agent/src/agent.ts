import { statfs } from 'node:fs/promises';

import type { ZkClient, ZkSession } from '@zkha/zk';

export const STORES_ROOT = '/zkha/stores';

/** What `/zkha/stores/<node>/alive` holds while the agent's session lives. */
export interface AliveRecord {
  node: string;
  address: string;
  pid: number;
  capacityBytes: number | null;
  freeBytes: number | null;
  startedAt: string;
  heartbeatAt: string;
  heartbeatIntervalMs: number;
  /** Base URL of this node's data API (data-server.ts); null when the agent runs without one. */
  dataUrl: string | null;
  /**
   * The folder's filesystem as statfs sees it (its size, whatever capacity the node is given) and its identity
   * (the data API's filesystemId), so the control plane can tell nodes on one disk from nodes on their own.
   */
  filesystemBytes: number | null;
  filesystemId: string | null;
}

export interface StorageAgentOptions {
  node: string;
  /** Where clients reach this node (host:port of its ZooKeeper server). */
  address: string;
  /** The node's storage folder; its filesystem gives capacity and free space. */
  folder: string;
  heartbeatIntervalMs: number;
  /** Advertised in the alive znode for the control plane to reach the data API. */
  dataUrl?: string | null;
  /**
   * Capacity and free space to advertise; by default the folder's filesystem (statfs). The data server passes its
   * own figures, which honour a configured capacity and the bytes this node actually holds.
   */
  capacity?: () => Promise<{ capacityBytes: number; freeBytes: number; filesystemId?: string }>;
}

/**
 * The storage-node side of liveness: registers an ephemeral `alive` znode under its own ZooKeeper session
 * and refreshes it on an interval. The session is the real heartbeat (ZooKeeper deletes the znode when the
 * session dies with the process or its server); the refreshed `heartbeatAt` lets the control plane tell a
 * live but stuck agent (SUSPECT) from a healthy one.
 */
export class StorageAgent {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly session: ZkSession,
    private readonly opts: StorageAgentOptions,
  ) {
    // A new session after expiry has lost the ephemeral znode: register again at once.
    session.on('renewed', () => void this.register().catch(() => undefined));
  }

  get path(): string {
    return `${STORES_ROOT}/${this.opts.node}/alive`;
  }

  async start(): Promise<void> {
    await this.register();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), this.opts.heartbeatIntervalMs);
  }

  private async record(): Promise<AliveRecord> {
    let capacityBytes: number | null = null;
    let freeBytes: number | null = null;
    let filesystemBytes: number | null = null;
    let filesystemId: string | null = null;
    try {
      const s = await statfs(this.opts.folder);
      filesystemBytes = s.blocks * s.bsize;
      if (this.opts.capacity) {
        const c = await this.opts.capacity();
        ({ capacityBytes, freeBytes } = c);
        filesystemId = c.filesystemId ?? null;
      } else {
        capacityBytes = filesystemBytes;
        freeBytes = s.bavail * s.bsize;
      }
    } catch {
      // folder not there yet: capacity unknown, still alive
    }
    return {
      node: this.opts.node,
      address: this.opts.address,
      pid: process.pid,
      capacityBytes,
      freeBytes,
      startedAt: this.startedAt,
      heartbeatAt: new Date().toISOString(),
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      dataUrl: this.opts.dataUrl ?? null,
      filesystemBytes,
      filesystemId,
    };
  }

  /**
   * Creates the ephemeral znode. If one is still there from a previous session of ours that ZooKeeper has
   * not expired yet (a restart faster than the session timeout), it is replaced: this process is the node now.
   */
  async register(): Promise<void> {
    const zk: ZkClient = this.session.client;
    await zk.mkdirp(`${STORES_ROOT}/${this.opts.node}`);
    const data = JSON.stringify(await this.record());
    try {
      await zk.create(this.path, data, 'ephemeral');
    } catch (err) {
      if ((err as { code?: string }).code !== 'NODE_EXISTS') throw err;
      await zk.remove(this.path).catch(() => undefined);
      await zk.create(this.path, data, 'ephemeral');
    }
  }

  private async beat(): Promise<void> {
    await this.session.client.set(this.path, JSON.stringify(await this.record()));
  }

  /** Graceful stop: deletes the znode now, so the control plane sees the node leave at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.session.client.remove(this.path).catch(() => undefined);
  }
}
