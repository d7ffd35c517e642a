/**
 * A small typed promise API over node-zookeeper-client 1.1.3.
 *
 * Why a wrapper: the library is callback-based, its DefinitelyTyped types are incomplete (no
 * removeRecursive, error types too narrow), it queues requests forever while disconnected, and it
 * has no read timeout (a server that stops answering but keeps the TCP connection open, e.g. a
 * SIGSTOPped or partitioned JVM, leaves it "connected" forever; upstream issues #13/#20). Every
 * call into it stays in this file and connection.ts (the session: its state, authentication, the
 * watchdog, close, and the deadline each call runs under), typed by the declarations in library.ts.
 *
 * Errors: server-side failures become `ZkError` whose `code` is the library's name (NO_NODE,
 * NODE_EXISTS, BAD_VERSION, NOT_EMPTY, SESSION_EXPIRED, ...) so callers can branch on them. Loss of
 * the connection and timeouts become AppError('ZK_UNAVAILABLE'): the caller cannot know the outcome
 * and should retry or report the ensemble as unavailable.
 */
import { AppError } from '@zkha/core';

import { protectedAcl, toZkStat, ZK_PERMS } from './acl.ts';
import { ZkConnection, type ZkClientOptions, type ZkClientState } from './connection.ts';
import { isZkError } from './errors.ts';
import { zookeeper, type LibAcl, type LibClient, type LibOpResult, type LibStat, type LibTransaction, type LibWatcher } from './library.ts';
import { protectTree, removeTree, setAclTree } from './subtree.ts';
import { createTtlNode } from './ttl.ts';
import type { ZkAclEntry, ZkStat } from './types.ts';

export type { ZkAclEntry, ZkDigestCredentials, ZkStat } from './types.ts';
export { protectedAcl, sameAcl, toZkStat, ZK_PERMS } from './acl.ts';
export type { ZkClientEvents, ZkClientOptions, ZkClientState } from './connection.ts';

export { isZkError, ZkError, type ZkErrorCode } from './errors.ts';

export type ZkCreateMode = 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential';

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

const CREATE_MODES: Record<ZkCreateMode, number> = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  persistent_sequential: zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
  ephemeral_sequential: zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

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

/** A connected client: the node operations, over the connection and session of ZkConnection (connection.ts). */
export class ZkClient extends ZkConnection {
  /** The ACL for creates, in the library's form; undefined: the library's default (open). */
  private readonly libraryAcl: LibAcl[] | undefined;

  private constructor(
    raw: LibClient,
    connectionString: string,
    operationTimeoutMs: number,
    watchdogIntervalMs: number,
    /** What this client's creates are protected with; null: open (world:anyone ALL). */
    readonly acl: ZkAclEntry[] | null = null,
  ) {
    super(raw, connectionString, operationTimeoutMs, watchdogIntervalMs);
    this.libraryAcl = acl ? toLibraryAcl(acl) : undefined;
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
    return removeTree(this, path);
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
    return setAclTree(this, root, acl, opts);
  }

  /**
   * Puts this client's ACL on `root` and everything below it when `root` exists and does not carry it yet
   * (a tree created before credentials were configured). Returns the number of nodes changed, 0 when there
   * was nothing to do. A client without auth has nothing to apply. A root protected by other credentials
   * ends in ZkError NO_AUTH: only whoever holds them may change it.
   */
  async protectTree(root: string, opts: { batchSize?: number } = {}): Promise<number> {
    return protectTree(this, root, opts);
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
