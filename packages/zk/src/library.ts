/**
 * node-zookeeper-client 1.1.3 (pinned), typed for exactly what this package uses of it: the client's calls,
 * its constants and small classes, the connection manager's internals that connection.ts reaches into, and the
 * jute records reconfig.ts frames its one request with.
 *
 * Why not @types/node-zookeeper-client: it describes neither the connection manager nor lib/jute, and it is
 * wrong where this package depends on the details (an ACL's field is `permission`, not `perms`; exists answers
 * a null stat for a missing node; getData of a node without data answers undefined; failures are not only
 * Exceptions, the library's argument checks throw AssertionErrors). These declarations follow its source.
 *
 * Callbacks are Node-style: an error alone, or null and the results. The results are typed as on success,
 * which is the only case in which they are read; the error is `unknown` and narrowed where it is used.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

import type { ZkErrorCode } from './errors.ts';
import { collectWholePackets, type SocketDataReceiver } from './packet-collector.ts';

/** The library's stat record (lib/jute data.Stat): longs as 8-byte big-endian buffers. */
export interface LibStat {
  czxid: Buffer;
  mzxid: Buffer;
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
  pzxid: Buffer;
}

export interface LibId {
  scheme: string;
  id: string;
}

export interface LibAcl {
  permission: number;
  id: LibId;
}

/** A watch notification (lib/Event.js); `type` is one of the Event constants. */
export interface LibEvent {
  type: number;
  name: string;
  path: string;
}

/** A connection state (lib/State.js): the constants are instances, compared by identity. */
export interface LibState {
  name: string;
  code: number;
}

/** A server-side failure (lib/Exception.js, an Error subclass); `name` is one of its codes' names. */
export interface LibException extends Error {
  code: number;
  name: ZkErrorCode;
  path?: string;
}

export type LibWatcher = (event: LibEvent) => void;

/** One entry of a multi's answer: the op's code, and the created path, new stat or error code. */
export interface LibOpResult {
  type: number;
  path?: string;
  stat?: LibStat;
  err?: number;
}

/**
 * A multi being assembled (lib/Transaction.js). Like Client.create, its create sorts its optional
 * arguments by type, so an undefined one is the same as one left out (no data, the open ACL).
 */
export interface LibTransaction {
  create(path: string, data: Buffer | undefined, acls: LibAcl[] | undefined, mode: number): LibTransaction;
  setData(path: string, data: Buffer | null, version: number): LibTransaction;
  check(path: string, version: number): LibTransaction;
  remove(path: string, version: number): LibTransaction;
  commit(callback: (error: unknown, results: LibOpResult[]) => void): void;
}

/** A request waiting in the connection manager's queue (lib/ConnectionManager.js). */
export interface LibPacket {
  request?: { header?: { type: number } | null };
}

/**
 * The connection manager's internals connection.ts touches (not part of the library's API): the socket and its
 * connect timer, the hooks it replaces, and the queue of requests not yet written.
 */
export interface LibConnectionManager {
  socket?: Socket;
  connectTimeoutHandler: NodeJS.Timeout | null;
  packetQueue: { queue: LibPacket[] };
  /** The socket's 'connect' handler: sends ConnectRequest and queues the AuthPackets. */
  onSocketConnected: (this: LibConnectionManager, ...args: unknown[]) => void;
  /** Picks the server the next socket dials; the callback is what dials it. */
  findNextServer: (callback: (server: unknown) => void) => void;
}

export interface LibClient {
  connect(): void;
  close(): void;
  on(event: 'state', listener: (state: LibState) => void): this;
  once(event: 'disconnected', listener: () => void): this;
  addAuthInfo(scheme: string, auth: Buffer): void;
  getSessionTimeout(): number;
  getSessionId(): Buffer;
  /** Optional arguments are told apart by type, so an undefined one is the same as one left out. */
  create(
    path: string,
    data: Buffer | undefined,
    acls: LibAcl[] | undefined,
    mode: number,
    callback: (error: unknown, path: string) => void,
  ): void;
  remove(path: string, version: number, callback: (error: unknown) => void): void;
  /** `stat` is null when the node does not exist (not an error for exists). */
  exists(path: string, callback: (error: unknown, stat: LibStat | null) => void): void;
  exists(path: string, watcher: LibWatcher, callback: (error: unknown, stat: LibStat | null) => void): void;
  /** `data` is undefined for a node without data. */
  getData(path: string, callback: (error: unknown, data: Buffer | undefined, stat: LibStat) => void): void;
  getData(path: string, watcher: LibWatcher, callback: (error: unknown, data: Buffer | undefined, stat: LibStat) => void): void;
  setData(path: string, data: Buffer | null, version: number, callback: (error: unknown, stat: LibStat) => void): void;
  getChildren(path: string, callback: (error: unknown, children: string[], stat: LibStat) => void): void;
  getChildren(path: string, watcher: LibWatcher, callback: (error: unknown, children: string[], stat: LibStat) => void): void;
  getACL(path: string, callback: (error: unknown, acls: LibAcl[] | undefined, stat: LibStat) => void): void;
  setACL(path: string, acls: LibAcl[], version: number, callback: (error: unknown, stat: LibStat) => void): void;
  transaction(): LibTransaction;
  /** Internal, set by the constructor; every use checks it is there. */
  connectionManager?: LibConnectionManager;
}

export interface LibModule {
  createClient(connectionString: string, options: { sessionTimeout: number; retries: number; spinDelay: number }): LibClient;
  ACL: new (permission: number, id: LibId) => LibAcl;
  Id: new (scheme: string, id: string) => LibId;
  /** Only used with instanceof. */
  Exception: abstract new (...args: never[]) => LibException;
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  Event: { NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number };
  State: Record<'SYNC_CONNECTED' | 'CONNECTED_READ_ONLY' | 'DISCONNECTED' | 'EXPIRED' | 'AUTH_FAILED', LibState>;
}

/** What jute.Request frames: a header or payload record, or a record of our own of the same shape. */
export interface JuteSerializable {
  byteLength(): number;
  serialize(buffer: Buffer, offset: number): number;
}

/** A generated jute record (lib/jute/specification.json): fields as in zookeeper.jute, longs as 8-byte buffers. */
export interface JuteRecord extends JuteSerializable {
  /** Reads the record at `offset`; returns the number of bytes read. */
  deserialize(buffer: Buffer, offset: number): number;
}

export interface JuteRequestHeader extends JuteRecord {
  xid: number;
  type: number;
}

export interface JuteReplyHeader extends JuteRecord {
  xid: number;
  zxid: Buffer;
  err: number;
}

export interface JuteConnectRequest extends JuteRecord {
  protocolVersion: number;
  lastZxidSeen: Buffer;
  timeOut: number;
  sessionId: Buffer;
  passwd: Buffer | undefined;
}

export interface JuteConnectResponse extends JuteRecord {
  protocolVersion: number;
  /** The negotiated session timeout; 0 when the server refused the session. */
  timeOut: number;
  sessionId: Buffer;
  passwd: Buffer | undefined;
}

export interface JuteAuthPacket extends JuteRecord {
  type: number;
  scheme: string | undefined;
  auth: Buffer | undefined;
}

export interface JuteGetDataResponse extends JuteRecord {
  data: Buffer | undefined;
  stat: LibStat;
}

/** lib/jute: the records reconfig.ts builds and reads, and the framing of a request. */
export interface JuteModule {
  Request: new (header: JuteSerializable | null, payload: JuteSerializable | null) => { toBuffer(): Buffer };
  protocol: {
    RequestHeader: new () => JuteRequestHeader;
    ReplyHeader: new () => JuteReplyHeader;
    ConnectRequest: new () => JuteConnectRequest;
    ConnectResponse: new () => JuteConnectResponse;
    AuthPacket: new () => JuteAuthPacket;
    GetDataResponse: new () => JuteGetDataResponse;
  };
}

// The package is CommonJS without usable types: createRequire loads it, and these two casts are the one place
// its shape is asserted (the declarations above, checked against the pinned 1.1.3 source).
const require = createRequire(import.meta.url);
export const zookeeper = require('node-zookeeper-client') as LibModule;
export const jute = require('node-zookeeper-client/lib/jute') as JuteModule;
// Each reply handed over whole, copied once (see packet-collector.ts), for every connection made from here on.
collectWholePackets((require('node-zookeeper-client/lib/ConnectionManager') as { prototype: SocketDataReceiver }).prototype);
