import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { ZkClient, type ZkClientOptions, type ZkClientState } from './client.ts';

export interface ZkSessionEvents {
  /** A new session replaced an expired one: ephemerals and watches of the old one are gone, re-create them. */
  renewed: [ZkClient];
  state: [ZkClientState];
}

/**
 * A ZooKeeper session that survives expiry. node-zookeeper-client ends a client for good when its session
 * expires (ephemeral znodes deleted, watches lost); this keeps connecting a new client and tells its users
 * through `renewed`, so they re-register what they owned. Always read `.client` at the time of use.
 */
export class ZkSession extends EventEmitter<ZkSessionEvents> {
  private current: ZkClient;
  private closed = false;
  private renewing: Promise<void> | null = null;
  private servers: string;

  private constructor(
    client: ZkClient,
    connectionString: string,
    private readonly options: ZkClientOptions,
  ) {
    super();
    this.setMaxListeners(0);
    this.servers = connectionString;
    this.current = client;
    this.attach(client);
  }

  /** The server list sessions are opened on (changes with reconnect). */
  get connectionString(): string {
    return this.servers;
  }

  static async connect(connectionString: string, options: ZkClientOptions = {}): Promise<ZkSession> {
    return new ZkSession(await ZkClient.connect(connectionString, options), connectionString, options);
  }

  get client(): ZkClient {
    return this.current;
  }

  /** The session timeout asked for (the ensemble may bound it between 2 and 20 ticks). */
  get sessionTimeoutMs(): number {
    return this.options.sessionTimeout ?? 10_000;
  }

  get state(): ZkClientState {
    return this.current.state;
  }

  private attach(client: ZkClient): void {
    client.on('state', (s) => {
      if (client !== this.current) return;
      this.emit('state', s);
      if (s === 'expired' && !this.closed) void this.renew();
    });
  }

  /** Replaces the expired client, retrying with back-off until the ensemble takes a new session. */
  private renew(): Promise<void> {
    this.renewing ??= (async () => {
      const old = this.current;
      void old.close().catch(() => undefined);
      for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 5_000)) {
        try {
          const next = await ZkClient.connect(this.connectionString, this.options);
          if (this.closed) {
            await next.close();
            return;
          }
          this.current = next;
          this.attach(next);
          this.emit('state', next.state);
          this.emit('renewed', next);
          return;
        } catch {
          await sleep(delay);
        }
      }
    })().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  /**
   * Moves to another server list, after the ensemble's membership changed. node-zookeeper-client fixes
   * a client's server list at creation and cannot be told about a new server, nor stop failing over to
   * a removed one, so a new client is connected on `connectionString` first, then replaces the current
   * one, which is closed. That is a new session: `renewed` tells users to re-create their ephemerals
   * and watches, as after an expiry. When no server of the new list takes a session, it rejects and
   * the current client stays.
   */
  async reconnect(connectionString: string): Promise<void> {
    if (this.closed) return;
    if (this.renewing) await this.renewing;
    const next = await ZkClient.connect(connectionString, this.options);
    if (this.closed) {
      await next.close();
      return;
    }
    const old = this.current;
    this.servers = connectionString;
    this.current = next;
    this.attach(next);
    this.emit('state', next.state);
    this.emit('renewed', next);
    await old.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current.close();
  }
}
