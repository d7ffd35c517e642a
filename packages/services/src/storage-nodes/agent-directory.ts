import { STORES_ROOT, type AliveRecord } from '@zkha/agent';
import { AgentStorage } from '@zkha/storage';
import type { ZkSession } from '@zkha/zk';

/**
 * Where each storage node's agent serves its data API: the `dataUrl` of its alive znode, read through a watch and
 * kept until the znode changes (a heartbeat, a restart on another port, the agent gone). ZooKeeper is the only
 * directory: an agent on another host is found exactly as a local one is.
 */
export class AgentDirectory {
  private readonly cache = new Map<string, Promise<string | null>>();

  constructor(private readonly session: ZkSession) {
    // Watches do not survive a session expiry: forget everything and read afresh.
    session.on('renewed', () => this.cache.clear());
  }

  /** The node's data API URL, or null while no agent with a data API is registered for it. */
  endpoint(node: string): Promise<string | null> {
    let hit = this.cache.get(node);
    if (!hit) {
      hit = this.read(node);
      this.cache.set(node, hit);
      // A failed read (no connection) is not remembered: the next call asks again.
      hit.catch(() => this.cache.delete(node));
    }
    return hit;
  }

  /** Forgets what is known of a node's agent, so the next lookup reads its alive znode afresh (it did not answer). */
  forget(node: string): void {
    this.cache.delete(node);
  }

  private async read(node: string): Promise<string | null> {
    const data = await this.session.client.watchData(`${STORES_ROOT}/${node}/alive`, () => this.cache.delete(node));
    if (!data?.data) return null;
    try {
      return (JSON.parse(data.data.toString('utf8')) as AliveRecord).dataUrl ?? null;
    } catch {
      return null;
    }
  }
}

/** The storage port over the agents registered in `session`'s ensemble, found (and re-found) through their alive znodes. */
export function storageOverAgents(session: ZkSession, opts: { token: string; spoolDir?: string }): AgentStorage {
  const directory = new AgentDirectory(session);
  return new AgentStorage({
    token: opts.token,
    endpoint: (node) => directory.endpoint(node),
    forget: (node) => directory.forget(node),
    ...(opts.spoolDir ? { spoolDir: opts.spoolDir } : {}),
  });
}
