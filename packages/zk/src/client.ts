/**
 * A small typed promise API over node-zookeeper-client 1.1.3.
 *
 * Why a wrapper: the library is callback-based, its DefinitelyTyped types are incomplete (no
 * removeRecursive, error types too narrow), it queues requests forever while disconnected, and it
 * has no read timeout (a server that stops answering but keeps the TCP connection open, e.g. a
 * SIGSTOPped or partitioned JVM, leaves it "connected" forever; upstream issues #13/#20). Every
 * call into it stays in this file, typed by the declarations in library.ts.
 *
 * Errors: server-side failures become `ZkError` whose `code` is the library's name (NO_NODE,
 * NODE_EXISTS, BAD_VERSION, NOT_EMPTY, SESSION_EXPIRED, ...) so callers can branch on them. Loss of
 * the connection and timeouts become AppError('ZK_UNAVAILABLE'): the caller cannot know the outcome
 * and should retry or report the ensemble as unavailable.
 */
import { EventEmitter } from 'node:events';
import { AppError } from '@zkha/core';

import { protectedAcl, sameAcl, toZkStat, ZK_PERMS } from './acl.ts';
import { isZkError, ZkError, type ZkErrorCode } from './errors.ts';
import {
  zookeeper,
  type LibAcl,
  type LibClient,
  type LibException,
  type LibOpResult,
  type LibPacket,
  type LibStat,
  type LibState,
  type LibTransaction,
  type LibWatcher,
} from './library.ts';
import { createTtlNode } from './ttl.ts';
import type { ZkAclEntry, ZkDigestCredentials, ZkStat } from './types.ts';

export type { ZkAclEntry, ZkDigestCredentials, ZkStat } from './types.ts';
export { protectedAcl, sameAcl, toZkStat, ZK_PERMS } from './acl.ts';

export { isZkError, ZkError, type ZkErrorCode } from './errors.ts';

export type ZkCreateMode = 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential';

/**
 * - connecting: before the first session is established
 * - connected / connected_read_only: requests are served
 * - disconnected: socket lost (or the watchdog found the server mute); the library reconnects and
 *   keeps the session if it gets back within the session timeout
 * - expired: the session is gone for good (ephemerals deleted, watches lost): make a new client
 * - auth_failed, closed: terminal
 */
export type ZkClientState = 'connecting' | 'connected' | 'connected_read_only' | 'disconnected' | 'expired' | 'auth_failed' | 'closed';

export interface ZkClientOptions {
  /** Requested session timeout, ms (the server clamps it to 2..20 x tickTime). Default 10000. */
  sessionTimeout?: number;
  /** How long connect() waits for the first session. Default 10000. */
  connectTimeoutMs?: number;
  /** Library-level retries of a request on CONNECTION_LOSS (1 s, 2 s, 4 s... back-off). Default 0. */
  retries?: number;
  /** Library's delay between two rounds over the server list, ms. Default 1000. */
  spinDelay?: number;
  /** Upper bound for any single operation, so nothing hangs while disconnected. Default 5000. */
  operationTimeoutMs?: number;
  /**
   * Liveness check interval (ms) while connected; 0 disables. Default sessionTimeout / 3. When a
   * check gets no answer within 2/3 of the negotiated session timeout (what the Java client uses as
   * read timeout), the socket is dropped so the library fails over to another server.
   */
  watchdogIntervalMs?: number;
  /**
   * Digest credentials: the session authenticates with them and every znode this client creates (create,
   * mkdirp, setOrCreate, transactions) gets `protectedAcl(auth)` instead of the library's open ACL.
   */
  auth?: ZkDigestCredentials | null;
}

export type ZkWatchEventType = 'created' | 'deleted' | 'data_changed' | 'children_changed';

export interface ZkWatchEvent {
  type: ZkWatchEventType;
  path: string;
}

export interface ZkNodeData {
  data: Buffer | null;
  version: number;
}

export interface ZkTransactionResult {
  op: 'create' | 'remove' | 'set' | 'check' | 'error';
  /** Created path (with the sequence suffix for sequential nodes). */
  path?: string;
  /** New data version after a set. */
  version?: number;
}

export interface ZkClientEvents {
  state: [ZkClientState];
}

const CREATE_MODES: Record<ZkCreateMode, number> = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  persistent_sequential: zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
  ephemeral_sequential: zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

/** jute op code of an AuthPacket (lib/jute OP_CODES.AUTH). */
const OP_AUTH = 100;

function toLibraryAcl(acl: readonly ZkAclEntry[]): LibAcl[] {
  return acl.map((e) => new zookeeper.ACL(e.perms, new zookeeper.Id(e.scheme, e.id)));
}

const EVENT_TYPES: Record<number, ZkWatchEventType> = {
  [zookeeper.Event.NODE_CREATED]: 'created',
  [zookeeper.Event.NODE_DELETED]: 'deleted',
  [zookeeper.Event.NODE_DATA_CHANGED]: 'data_changed',
  [zookeeper.Event.NODE_CHILDREN_CHANGED]: 'children_changed',
};

/** jute op codes found in multi() results. */
const OP_NAMES: Record<number, ZkTransactionResult['op']> = {
  1: 'create',
  2: 'remove',
  5: 'set',
  13: 'check',
  [-1]: 'error',
};

function toBuffer(data: Buffer | string | null | undefined): Buffer | undefined {
  if (data === null || data === undefined) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function parentOf(p: string): string {
  const idx = p.lastIndexOf('/');
  return idx <= 0 ? '/' : p.slice(0, idx);
}

function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** Turns a library error into ZkError / AppError (see the file comment). */
function mapError(err: unknown, op: string, path: string | undefined): Error {
  if (!isLibException(err)) {
    // Library asserts (invalid path, data > 1 MiB...) are programming errors on our side of the call.
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ERR_ASSERTION') {
      const message = 'message' in err ? err.message : undefined;
      return new AppError('BAD_INPUT', `zk ${op} ${path ?? ''}: ${String(message)}`, { op, path }, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }
  const code: ZkErrorCode = err.name;
  if (code === 'CONNECTION_LOSS' || code === 'OPERATION_TIMEOUT') {
    return new AppError(
      'ZK_UNAVAILABLE',
      `ZooKeeper ${op} ${path ?? ''} failed: ${code} (outcome unknown)`,
      { op, path, zkCode: code },
      { cause: new ZkError(code, err.message, path) },
    );
  }
  return new ZkError(code, `ZooKeeper ${op} ${path ?? ''} failed: ${code}`, path ?? err.path, { cause: err });
}

function isLibException(err: unknown): err is LibException {
  return err instanceof zookeeper.Exception && typeof err.code === 'number' && typeof err.name === 'string';
}

export class ZkClient extends EventEmitter<ZkClientEvents> {
  private currentState: ZkClientState = 'connecting';
  private watchdog: NodeJS.Timeout | null = null;
  private watchdogBusy = false;
  private closing: Promise<void> | null = null;
  /** The ACL for creates, in the library's form; undefined: the library's default (open). */
  private readonly libraryAcl: LibAcl[] | undefined;
  /** The digest credentials this client authenticates with (createTtl's own connection sends them too). */
  private credentials: ZkDigestCredentials | null = null;

  private constructor(
    private readonly raw: LibClient,
    readonly connectionString: string,
    private readonly operationTimeoutMs: number,
    private readonly watchdogIntervalMs: number,
    /** What this client's creates are protected with; null: open (world:anyone ALL). */
    readonly acl: ZkAclEntry[] | null = null,
  ) {
    super();
    this.libraryAcl = acl ? toLibraryAcl(acl) : undefined;
    raw.on('state', (s) => this.onLibraryState(s));
  }

  /**
   * Registers the credentials before the first socket opens. ZooKeeper keeps auth info per connection, not
   * per session, so it must be sent again on every (re)connect: the library does that itself (it keeps the
   * credentials and queues an AuthPacket in onSocketConnected, before any request goes out on the new
   * socket), so nothing is needed after a reconnect. One gap is closed here: requests issued while
   * disconnected wait in the library's queue, and the AuthPacket is queued behind them, so a write queued
   * during a failover would reach the new server unauthenticated and fail with NO_AUTH. Moving the auth
   * packets to the front of the queue makes them go first.
   */
  private authenticate(auth: ZkDigestCredentials): void {
    this.credentials = auth;
    const cm = this.raw.connectionManager;
    const isAuth = (p: LibPacket | undefined): boolean => p?.request?.header?.type === OP_AUTH;
    if (cm && typeof cm.onSocketConnected === 'function' && cm.packetQueue && Array.isArray(cm.packetQueue.queue)) {
      const original = cm.onSocketConnected;
      cm.onSocketConnected = function (...args: unknown[]) {
        original.apply(this, args);
        const queue = this.packetQueue.queue;
        if (queue.some(isAuth)) this.packetQueue.queue = [...queue.filter(isAuth), ...queue.filter((p) => !isAuth(p))];
      };
    }
    this.raw.addAuthInfo('digest', Buffer.from(`${auth.user}:${auth.password}`, 'utf8'));
  }

  /**
   * Connects and waits for a session. Rejects with AppError('ZK_UNAVAILABLE') when no server
   * accepts a session within `connectTimeoutMs` (the attempt is abandoned, nothing keeps running).
   */
  static async connect(connectionString: string, options: ZkClientOptions = {}): Promise<ZkClient> {
    const sessionTimeout = options.sessionTimeout ?? 10_000;
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const raw = zookeeper.createClient(connectionString, {
      sessionTimeout,
      retries: options.retries ?? 0,
      spinDelay: options.spinDelay ?? 1000,
    });
    const client = new ZkClient(
      raw,
      connectionString,
      options.operationTimeoutMs ?? 5000,
      options.watchdogIntervalMs ?? Math.floor(sessionTimeout / 3),
      options.auth ? protectedAcl(options.auth) : null,
    );
    if (options.auth) client.authenticate(options.auth);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new AppError('ZK_UNAVAILABLE', `could not connect to ZooKeeper ${connectionString} within ${connectTimeoutMs} ms`, {
            connectionString,
          }),
        );
      }, connectTimeoutMs);
      const onState = (s: ZkClientState): void => {
        if (s === 'connected' || s === 'connected_read_only') {
          cleanup();
          resolve();
        } else if (s === 'auth_failed' || s === 'expired') {
          cleanup();
          reject(new AppError('ZK_UNAVAILABLE', `ZooKeeper session could not be established: ${s}`, { connectionString }));
        }
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        client.off('state', onState);
      };
      client.on('state', onState);
      raw.connect();
    }).catch(async (err: unknown) => {
      await client.close();
      throw err;
    });
    client.startWatchdog();
    return client;
  }

  get state(): ZkClientState {
    return this.currentState;
  }

  /** Negotiated session timeout (ms), valid once connected. */
  get sessionTimeout(): number {
    return Number(this.raw.getSessionTimeout());
  }

  /** Session id as 16 hex digits (the form servers print in their logs and `cons`). */
  get sessionId(): string {
    return Buffer.from(this.raw.getSessionId()).toString('hex');
  }

  /** "host:port" of the server the socket is connected to, or null. Diagnostics only. */
  get connectedServer(): string | null {
    const socket = this.raw.connectionManager?.socket;
    if (!socket || socket.destroyed || !socket.remotePort) return null;
    return `${String(socket.remoteAddress)}:${String(socket.remotePort)}`;
  }

  /** Creates a node and returns its path (with the sequence suffix for sequential modes). */
  /** Creates a node with this client's ACL, or `acl` when given. Returns its path (sequential: with its number). */
  create(path: string, data?: Buffer | string | null, mode: ZkCreateMode = 'persistent', acl?: readonly ZkAclEntry[]): Promise<string> {
    const buf = toBuffer(data);
    const libAcl = acl ? toLibraryAcl(acl) : this.libraryAcl;
    // The library tells its optional arguments apart by type; an absent (undefined) ACL means its open default.
    return this.call<string>('create', path, (cb) => this.raw.create(path, buf, libAcl, CREATE_MODES[mode], cb));
  }

  /**
   * Creates a persistent node with a TTL (ZooKeeper deletes it once it has had no children and no change for
   * `ttlMs`), with this client's ACL or `acl`; over a connection of its own (see ttl.ts). UNIMPLEMENTED when the
   * servers do not allow TTL nodes.
   */
  async createTtl(
    path: string,
    data: Buffer | string | null | undefined,
    ttlMs: number,
    opts: { sequential?: boolean; acl?: readonly ZkAclEntry[] } = {},
  ): Promise<{ path: string; stat: ZkStat }> {
    const made = await createTtlNode(
      this.connectionString,
      this.credentials,
      {
        path,
        data: toBuffer(data) ?? Buffer.alloc(0),
        acl: opts.acl ?? this.acl ?? [{ scheme: 'world', id: 'anyone', perms: ZK_PERMS.all }],
        sequential: opts.sequential ?? false,
        ttlMs,
      },
      this.operationTimeoutMs,
    );
    // Made over a connection of its own, maybe to another server than this client's, which may apply the create a
    // moment later: wait until this client sees it, so a read right after finds it (the explorer read one back
    // and answered "no znode" once in CI). Bounded: a node with a TTL of a few ms may be gone before it shows.
    const deadline = Date.now() + this.operationTimeoutMs;
    while (!(await this.exists(made.path)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return made;
  }

  /** Creates `path` and any missing parent as empty persistent nodes; existing nodes are fine. */
  async mkdirp(path: string): Promise<string> {
    if (path === '/') return path;
    let current = '';
    for (const part of path.split('/').slice(1)) {
      current = `${current}/${part}`;
      try {
        await this.create(current);
      } catch (err) {
        if (!isZkError(err, 'NODE_EXISTS')) throw err;
      }
    }
    return path;
  }

  async exists(path: string): Promise<boolean> {
    const stat = await this.call<LibStat | null>('exists', path, (cb) => this.raw.exists(path, cb));
    return stat !== null && stat !== undefined;
  }

  /** Data and version. Throws ZkError NO_NODE when missing. `data` is null for an empty node. */
  async get(path: string): Promise<ZkNodeData> {
    const [data, stat] = await this.call<[Buffer | undefined, LibStat]>('get', path, (cb) =>
      this.raw.getData(path, (err, d, s) => cb(err, [d, s])),
    );
    return { data: data && data.length > 0 ? data : null, version: Number(stat.version) };
  }

  /** A node's full stat, or null when it does not exist. */
  async stat(path: string): Promise<ZkStat | null> {
    const stat = await this.call<LibStat | null>('exists', path, (cb) => this.raw.exists(path, cb));
    return stat === null || stat === undefined ? null : toZkStat(stat);
  }

  /** Data (empty: a zero-length buffer) and full stat. Throws ZkError NO_NODE when missing. */
  async read(path: string): Promise<{ data: Buffer; stat: ZkStat }> {
    const [data, stat] = await this.call<[Buffer | undefined, LibStat]>('get', path, (cb) =>
      this.raw.getData(path, (err, d, s) => cb(err, [d, s])),
    );
    return { data: data ?? Buffer.alloc(0), stat: toZkStat(stat) };
  }

  /**
   * JSON content of a node, or null when the node does not exist or is empty. Invalid JSON throws
   * AppError('INTERNAL'): somebody wrote something else there.
   */
  async getJson<T>(path: string): Promise<T | null> {
    const res = await this.getJsonVersioned<T>(path);
    return res ? res.value : null;
  }

  /** Like getJson, with the version for a compare-and-set `set(path, data, version)`. */
  async getJsonVersioned<T>(path: string): Promise<{ value: T; version: number } | null> {
    let node: ZkNodeData;
    try {
      node = await this.get(path);
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return null;
      throw err;
    }
    if (!node.data) return null;
    try {
      return { value: JSON.parse(node.data.toString('utf8')) as T, version: node.version };
    } catch (err) {
      throw new AppError('INTERNAL', `znode ${path} does not hold valid JSON`, { path }, { cause: err });
    }
  }

  /** Sets data if `version` matches (-1: any). Returns the new version. ZkError BAD_VERSION / NO_NODE. */
  async set(path: string, data: Buffer | string | null, version = -1): Promise<number> {
    const buf = toBuffer(data) ?? null;
    const stat = await this.call<LibStat>('set', path, (cb) => this.raw.setData(path, buf, version, cb));
    return Number(stat.version);
  }

  /** Upsert: set, or create (with missing parents) when the node does not exist. Returns the version. */
  async setOrCreate(path: string, data: Buffer | string | null): Promise<number> {
    // Two rounds cover the races: created by someone else between our set and create, or removed
    // between our create failing and our second set.
    for (let round = 0; ; round++) {
      try {
        return await this.set(path, data);
      } catch (err) {
        if (!isZkError(err, 'NO_NODE') || round >= 2) throw err;
      }
      try {
        if (parentOf(path) !== '/') await this.mkdirp(parentOf(path));
        await this.create(path, data);
        return 0;
      } catch (err) {
        if (!isZkError(err, 'NODE_EXISTS')) throw err;
      }
    }
  }

  /** Removes a node if `version` matches (-1: any). ZkError NO_NODE / NOT_EMPTY / BAD_VERSION. */
  async remove(path: string, version = -1): Promise<void> {
    await this.call<void>('remove', path, (cb) => this.raw.remove(path, version, cb));
  }

  /**
   * Removes a node and everything below it, like `rm -rf`: a missing node is not an error. Not
   * atomic; children created concurrently are retried a few times (NOT_EMPTY).
   */
  async removeRecursive(path: string): Promise<void> {
    if (path === '/') throw new AppError('BAD_INPUT', 'refusing to remove the ZooKeeper root');
    for (let attempt = 0; ; attempt++) {
      let kids: string[];
      try {
        kids = await this.children(path);
      } catch (err) {
        if (isZkError(err, 'NO_NODE')) return;
        throw err;
      }
      for (const kid of kids) await this.removeRecursive(joinPath(path, kid));
      try {
        await this.remove(path);
        return;
      } catch (err) {
        if (isZkError(err, 'NO_NODE')) return;
        if (!isZkError(err, 'NOT_EMPTY') || attempt >= 3) throw err;
      }
    }
  }

  /** Child names (not paths), sorted: ZooKeeper returns them in no particular order. */
  async children(path: string): Promise<string[]> {
    const kids = await this.call<string[]>('children', path, (cb) => this.raw.getChildren(path, (err, c) => cb(err, c)));
    return [...kids].sort();
  }

  /**
   * Current children plus a one-shot watch: `onChange` is called once, on the next change of the
   * child list or deletion of the node. Set a new watch from the callback to keep watching.
   * ZkError NO_NODE when the node does not exist.
   */
  async watchChildren(path: string, onChange: (event: ZkWatchEvent) => void): Promise<string[]> {
    const kids = await this.call<string[]>('watchChildren', path, (cb) =>
      this.raw.getChildren(path, this.watcher(onChange), (err, c) => cb(err, c)),
    );
    return [...kids].sort();
  }

  /**
   * Current data plus a one-shot watch: `onChange` is called once, on the next data change,
   * deletion, or, when the node does not exist yet (result null), its creation. Watches survive
   * reconnects (the library re-registers them) but not session expiry.
   */
  async watchData(path: string, onChange: (event: ZkWatchEvent) => void): Promise<ZkNodeData | null> {
    const watcher = this.watcher(onChange);
    for (;;) {
      try {
        const [data, stat] = await this.call<[Buffer | undefined, LibStat]>('watchData', path, (cb) =>
          this.raw.getData(path, watcher, (err, d, s) => cb(err, [d, s])),
        );
        return { data: data && data.length > 0 ? data : null, version: Number(stat.version) };
      } catch (err) {
        if (!isZkError(err, 'NO_NODE')) throw err;
      }
      // Missing: an existence watch fires on creation. If the node appeared in between, exists()
      // answers with a stat and sets a data watch instead, so read it again.
      const stat = await this.call<LibStat | null>('watchData', path, (cb) => this.raw.exists(path, watcher, cb));
      if (stat === null || stat === undefined) return null;
    }
  }

  /** A multi-op transaction, committed atomically. Its creates get this client's ACL. */
  transaction(): ZkTransaction {
    return new ZkTransaction(this.raw.transaction(), (op, fn) => this.call(op, undefined, fn), this.libraryAcl);
  }

  /** A node's ACL. ZkError NO_NODE when missing. */
  async getAcl(path: string): Promise<ZkAclEntry[]> {
    const acls = await this.call<LibAcl[] | undefined>('getAcl', path, (cb) => this.raw.getACL(path, (err, a) => cb(err, a)));
    return (acls ?? []).map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: a.permission }));
  }

  /** Replaces a node's ACL if `version` (the ACL version) matches, -1: any. Needs ADMIN on the node (NO_AUTH). */
  async setAcl(path: string, acl: readonly ZkAclEntry[], version = -1): Promise<void> {
    const lib = toLibraryAcl(acl);
    await this.call<unknown>('setAcl', path, (cb) => this.raw.setACL(path, lib, version, cb));
  }

  /**
   * Sets `acl` on `root` and every node below it; returns how many nodes were set. ZooKeeper has no
   * recursive setACL and a multi cannot carry one, so the nodes go in batches of `batchSize` concurrent
   * requests (pipelined on the one socket). The root is set last: if this stops half-way, the root still
   * shows the old ACL and a later run starts over. Nodes deleted meanwhile are skipped.
   */
  async setAclTree(root: string, acl: readonly ZkAclEntry[], opts: { batchSize?: number } = {}): Promise<number> {
    const batchSize = Math.max(1, opts.batchSize ?? 500);
    const below: string[] = [];
    let level = [root];
    while (level.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += batchSize) {
        const lists = await Promise.all(
          level.slice(i, i + batchSize).map(async (p) => {
            try {
              return (await this.children(p)).map((kid) => joinPath(p, kid));
            } catch (err) {
              if (isZkError(err, 'NO_NODE')) return [];
              throw err;
            }
          }),
        );
        for (const list of lists) next.push(...list);
      }
      below.push(...next);
      level = next;
    }
    let count = 0;
    // Deepest first, then the root on its own.
    const ordered = [...below.reverse(), root];
    for (let i = 0; i < ordered.length; i += batchSize) {
      const done = await Promise.all(
        ordered.slice(i, i + batchSize).map(async (p) => {
          try {
            await this.setAcl(p, acl);
            return 1;
          } catch (err) {
            if (isZkError(err, 'NO_NODE')) return 0;
            throw err;
          }
        }),
      );
      count += done.reduce<number>((a, b) => a + b, 0);
    }
    return count;
  }

  /**
   * Puts this client's ACL on `root` and everything below it when `root` exists and does not carry it yet
   * (a tree created before credentials were configured). Returns the number of nodes changed, 0 when there
   * was nothing to do. A client without auth has nothing to apply. A root protected by other credentials
   * ends in ZkError NO_AUTH: only whoever holds them may change it.
   */
  async protectTree(root: string, opts: { batchSize?: number } = {}): Promise<number> {
    if (!this.acl) return 0;
    let current: ZkAclEntry[];
    try {
      current = await this.getAcl(root);
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return 0;
      throw err;
    }
    if (sameAcl(current, this.acl)) return 0;
    return this.setAclTree(root, this.acl, opts);
  }

  /**
   * Closes the session (the server deletes this session's ephemeral nodes at once) and the
   * socket. Idempotent; never throws; gives up waiting after 2 s (server unreachable).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopWatchdog();
      const wasConnected = this.currentState === 'connected' || this.currentState === 'connected_read_only';
      if (wasConnected) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          // The library emits 'disconnected' once the server has acknowledged the close and
          // closed the socket.
          this.raw.once('disconnected', () => {
            clearTimeout(timer);
            resolve();
          });
          this.raw.close();
        });
      } else {
        this.raw.close();
      }
      this.forceShutdown();
      this.setState('closed');
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------

  /**
   * When the session never came up (or the server is gone) the library would keep dialling the
   * servers forever after close(): stop it from opening new sockets and drop the current one. In
   * the CLOSING state a closed socket ends in CLOSED without a retry. (A reconnect timer already
   * scheduled by the library, at most `spinDelay` away, cannot be cancelled from outside.)
   */
  private forceShutdown(): void {
    const cm = this.raw.connectionManager;
    if (!cm) return;
    cm.findNextServer = (): void => undefined;
    if (cm.connectTimeoutHandler) clearTimeout(cm.connectTimeoutHandler);
    cm.socket?.destroy();
  }

  private setState(s: ZkClientState): void {
    if (this.currentState === s || this.currentState === 'closed') return;
    this.currentState = s;
    this.emit('state', s);
  }

  private onLibraryState(s: LibState): void {
    const State = zookeeper.State;
    if (this.closing) return; // 'closed' is ours to announce
    if (s === State.SYNC_CONNECTED) this.setState('connected');
    else if (s === State.CONNECTED_READ_ONLY) this.setState('connected_read_only');
    else if (s === State.DISCONNECTED) this.setState('disconnected');
    else if (s === State.EXPIRED) this.setState('expired');
    else if (s === State.AUTH_FAILED) this.setState('auth_failed');
  }

  private watcher(onChange: (event: ZkWatchEvent) => void): LibWatcher {
    return (event) => {
      const type = EVENT_TYPES[event.type];
      if (!type) return;
      try {
        onChange({ type, path: event.path });
      } catch {
        // A throwing callback must not break the library's event dispatch for other watchers.
      }
    };
  }

  /**
   * Runs one library call with a deadline. The library queues requests while disconnected and
   * would answer only after reconnecting (or never); past the deadline we reject with
   * ZK_UNAVAILABLE. The request may still be executed later: a timed-out write has an unknown
   * outcome, like a CONNECTION_LOSS.
   */
  private call<T>(op: string, path: string | undefined, fn: (cb: (err: unknown, result?: T) => void) => void): Promise<T> {
    if (this.closing || this.currentState === 'closed') {
      return Promise.reject(new AppError('ZK_UNAVAILABLE', `ZooKeeper client is closed (${op} ${path ?? ''})`, { op, path }));
    }
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        reject(
          new AppError(
            'ZK_UNAVAILABLE',
            `ZooKeeper ${op} ${path ?? ''} timed out after ${this.operationTimeoutMs} ms (state ${this.currentState})`,
            { op, path, state: this.currentState },
          ),
        );
      }, this.operationTimeoutMs);
      try {
        fn((err, result) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (err) reject(mapError(err, op, path));
          else resolve(result as T);
        });
      } catch (err) {
        // Synchronous asserts from the library (bad path, bad argument).
        done = true;
        clearTimeout(timer);
        reject(mapError(err, op, path));
      }
    });
  }

  private startWatchdog(): void {
    if (this.watchdogIntervalMs <= 0) return;
    this.watchdog = setInterval(() => void this.checkAlive(), this.watchdogIntervalMs);
    // Never the reason the process stays alive.
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /**
   * One liveness check: exists('/') must answer within 2/3 of the session timeout. If not, while
   * the library still believes it is connected, destroy its socket: the library then fails the
   * pending requests with CONNECTION_LOSS and reconnects to another server (same session, if that
   * happens before the server-side session timeout).
   */
  private async checkAlive(): Promise<void> {
    if (this.watchdogBusy || this.closing || this.currentState !== 'connected') return;
    this.watchdogBusy = true;
    const socket = this.raw.connectionManager?.socket;
    const deadline = Math.max(1000, Math.floor((this.sessionTimeout || 10_000) * (2 / 3)));
    try {
      const answered = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), deadline);
        this.raw.exists('/', () => {
          clearTimeout(timer);
          resolve(true); // any answer, even an error, proves the server is talking to us
        });
      });
      const sameSocket = this.raw.connectionManager?.socket === socket;
      if (!answered && sameSocket && !this.closing && this.currentState === 'connected') {
        socket?.destroy();
      }
    } finally {
      this.watchdogBusy = false;
    }
  }
}

/** Thin typed wrapper over the library's Transaction (multi). */
export class ZkTransaction {
  constructor(
    private readonly raw: LibTransaction,
    private readonly run: <T>(op: string, fn: (cb: (err: unknown, result?: T) => void) => void) => Promise<T>,
    /** The client's ACL for creates (library form); undefined: the library's open default. */
    private readonly acl?: LibAcl[],
  ) {}

  create(path: string, data?: Buffer | string | null, mode: ZkCreateMode = 'persistent'): this {
    // As in ZkClient.create: undefined data or ACL is the same to the library as leaving it out.
    this.raw.create(path, toBuffer(data), this.acl, CREATE_MODES[mode]);
    return this;
  }

  set(path: string, data: Buffer | string | null, version = -1): this {
    this.raw.setData(path, toBuffer(data) ?? null, version);
    return this;
  }

  check(path: string, version = -1): this {
    this.raw.check(path, version);
    return this;
  }

  remove(path: string, version = -1): this {
    this.raw.remove(path, version);
    return this;
  }

  /** All or nothing. A failing op rejects with its ZkError (e.g. BAD_VERSION); nothing was applied. */
  async commit(): Promise<ZkTransactionResult[]> {
    const results = await this.run<LibOpResult[]>('transaction', (cb) => this.raw.commit(cb));
    return results.map((r): ZkTransactionResult => {
      const out: ZkTransactionResult = { op: OP_NAMES[r.type] ?? 'error' };
      if (typeof r.path === 'string') out.path = r.path;
      if (r.stat) out.version = Number(r.stat.version);
      return out;
    });
  }
}
