/**
 * ZooKeeper's `reconfig` operation (OpCode.reconfig = 16) over a short-lived session of its own.
 *
 * Why on the wire, and why not through node-zookeeper-client's connection: the library has no
 * reconfig call, and its response dispatcher cannot be taught one: an answer to an op it does not
 * know makes it drop the socket, and an error code it does not know (NEWCONFIGNOQUORUM -13,
 * RECONFIGINPROGRESS -14, RECONFIGDISABLED -123, exactly the ones reconfig returns) throws inside its
 * socket handler, an uncaught exception. The two alternatives were weighed and set aside:
 * - the ZooKeeper CLI (`ZooKeeperMain ... reconfig -add`) from the same jars starts a JVM per call
 *   (seconds on 2 cores next to five server JVMs, and memory), needs `addauth` piped through stdin,
 *   and answers in human text to scrape, with errors as stack traces;
 * - the AdminServer of 3.8 has no reconfig command at all (read-only: conf, voting_view, ...).
 * So this file speaks the protocol for one request: connect, authenticate (`addauth`), reconfig,
 * close. The records are the library's own jute classes (`node-zookeeper-client/lib/jute`, pinned
 * 1.1.3, typed in library.ts), only ReconfigRequest is spelt out here, following zookeeper.jute:
 *   ReconfigRequest { ustring joiningServers; ustring leavingServers; ustring newMembers; long curConfigId }
 *   answered by a GetDataResponse { buffer data (the new config); Stat stat }.
 * It takes milliseconds and returns ZooKeeper's exact error code.
 *
 * Authorisation: reconfig is a write to /zookeeper/config, whose ACL lets nobody write, so the
 * session authenticates as ZooKeeper's `super` digest user (see LocalEnsemble.superAuth) rather than
 * the servers running with skipACL=yes, which would switch off every ACL for every client.
 */
import net from 'node:net';
import { AppError, type TAppErrorCode } from '@zkha/core';
import { parseDynamicConfig, type DynamicConfig } from './dynamic-config.ts';
import type { ZkAuth } from './auth.ts';
import { jute, type JuteRequestHeader, type JuteSerializable } from './library.ts';

const OP_RECONFIG = 16;
const OP_AUTH = 100;
const OP_CLOSE_SESSION = -11;
const XID_AUTH = -4;

/** ZooKeeper's KeeperException.Code values a reconfig can answer with, by name. */
export const RECONFIG_ERROR_NAMES: Record<number, string> = {
  [-1]: 'SYSTEMERROR',
  [-4]: 'CONNECTIONLOSS',
  [-6]: 'UNIMPLEMENTED',
  [-7]: 'OPERATIONTIMEOUT',
  [-8]: 'BADARGUMENTS',
  [-13]: 'NEWCONFIGNOQUORUM',
  [-14]: 'RECONFIGINPROGRESS',
  [-101]: 'NONODE',
  [-102]: 'NOAUTH',
  [-103]: 'BADVERSION',
  [-115]: 'AUTHFAILED',
  [-123]: 'RECONFIGDISABLED',
};

/** How each ZooKeeper error maps to our error codes (and so to HTTP/tRPC statuses). */
const APP_CODE_BY_ZK: Record<string, TAppErrorCode> = {
  BADARGUMENTS: 'BAD_INPUT',
  BADVERSION: 'CONFLICT', // the config changed since it was read: re-read and decide again
  RECONFIGINPROGRESS: 'CONFLICT',
  NEWCONFIGNOQUORUM: 'NO_QUORUM', // too few servers of the new config are connected and in sync
  RECONFIGDISABLED: 'NOT_SUPPORTED',
  UNIMPLEMENTED: 'NOT_SUPPORTED',
  CONNECTIONLOSS: 'ZK_UNAVAILABLE',
  OPERATIONTIMEOUT: 'ZK_UNAVAILABLE',
};

export interface ReconfigChange {
  /** Server lines to add, or to give a new role (`server.4=127.0.0.1:q:e:participant;127.0.0.1:c`). */
  add?: readonly string[];
  /** Server ids to remove. */
  remove?: readonly number[];
  /** Non-incremental form: the whole new membership (server lines). Not combinable with add/remove. */
  members?: readonly string[];
  /**
   * Compare-and-set: apply only if the current config version is this one (hex as in `version=`, or a
   * bigint); ZooKeeper answers BADVERSION (here AppError CONFLICT) otherwise. Default: any version.
   */
  fromVersion?: string | bigint;
}

export interface ReconfigOptions {
  /** `host:port,...`; servers are tried in order until one takes a session. */
  connectionString: string;
  /** Who may reconfig: the super user (LocalEnsemble.superAuth) or one with write access to /zookeeper/config. */
  auth: ZkAuth | null;
  /** Deadline for the whole exchange, per server tried. Default 15000 (the leader waits for the new quorum). */
  timeoutMs?: number;
}

export interface ReconfigResult {
  /** The committed configuration, as the server answered it. */
  config: DynamicConfig;
  /** zxid of the reconfig transaction (hex). */
  zxid: string;
  /** Which server took the request. */
  server: string;
}

/** The ZooKeeper error of a failed reconfig, kept as the cause of the AppError thrown. */
export class ReconfigError extends Error {
  override readonly name = 'ReconfigError';
  constructor(
    readonly zkCode: number,
    readonly zkName: string,
  ) {
    super(`ZooKeeper reconfig failed: ${zkName} (${zkCode})`);
  }
}

function ustringLength(s: string | null): number {
  return 4 + (s === null ? 0 : Buffer.byteLength(s));
}

function writeUstring(buf: Buffer, offset: number, s: string | null): number {
  if (s === null) {
    buf.writeInt32BE(-1, offset);
    return 4;
  }
  const len = Buffer.byteLength(s);
  buf.writeInt32BE(len, offset);
  buf.write(s, offset + 4, 'utf8');
  return 4 + len;
}

/** A record in the shape jute.Request serialises (byteLength + serialize), for the one op the library lacks. */
class ReconfigRequestRecord implements JuteSerializable {
  constructor(
    private readonly joining: string | null,
    private readonly leaving: string | null,
    private readonly members: string | null,
    private readonly curConfigId: bigint,
  ) {}
  setChrootPath(): void {}
  byteLength(): number {
    return ustringLength(this.joining) + ustringLength(this.leaving) + ustringLength(this.members) + 8;
  }
  serialize(buf: Buffer, offset: number): number {
    let o = offset;
    o += writeUstring(buf, o, this.joining);
    o += writeUstring(buf, o, this.leaving);
    o += writeUstring(buf, o, this.members);
    buf.writeBigInt64BE(this.curConfigId, o);
    return o + 8 - offset;
  }
}

function header(xid: number, type: number): JuteRequestHeader {
  const h = new jute.protocol.RequestHeader();
  h.xid = xid;
  h.type = type;
  return h;
}

function frame(head: JuteRequestHeader, payload: JuteSerializable | null): Buffer {
  return new jute.Request(head, payload).toBuffer();
}

function toVersion(v: string | bigint | undefined): bigint {
  if (v === undefined) return -1n;
  if (typeof v === 'bigint') return v;
  const hex = v.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]+$/i.test(hex)) throw new AppError('BAD_INPUT', `not a config version: "${v}"`, { version: v });
  return BigInt(`0x${hex}`);
}

function validateChange(change: ReconfigChange): void {
  const incremental = (change.add?.length ?? 0) + (change.remove?.length ?? 0) > 0;
  const full = change.members !== undefined;
  if (incremental === full) {
    throw new AppError('BAD_INPUT', 'a reconfig needs either add/remove or members (and not both)');
  }
  for (const line of [...(change.add ?? []), ...(change.members ?? [])]) {
    // A comma would split one line into two for the server; the rest is the server's to check.
    if (!/^server\.\d+=[^,\s]+$/.test(line)) throw new AppError('BAD_INPUT', `not a server line: "${line}"`, { line });
  }
  for (const id of change.remove ?? []) {
    if (!Number.isInteger(id) || id < 0) throw new AppError('BAD_INPUT', `not a server id: ${id}`, { id });
  }
}

/** Reads length-prefixed frames from a socket, one at a time. */
class FrameReader {
  private buf = Buffer.alloc(0);
  private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.pump();
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      this.pump();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  next(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.pump();
    });
  }

  private pump(): void {
    if (!this.waiter) return;
    if (this.buf.length >= 4) {
      const len = this.buf.readInt32BE(0);
      if (this.buf.length >= 4 + len) {
        const frameBody = this.buf.subarray(4, 4 + len);
        this.buf = this.buf.subarray(4 + len);
        const w = this.waiter;
        this.waiter = null;
        w.resolve(frameBody);
        return;
      }
    }
    if (this.failure) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(this.failure);
    }
  }
}

interface Reply {
  xid: number;
  zxid: bigint;
  err: number;
  /** The whole frame, and where the payload starts in it. */
  body: Buffer;
  offset: number;
}

function readReply(body: Buffer): Reply {
  const h = new jute.protocol.ReplyHeader();
  const offset = h.deserialize(body, 0);
  return { xid: h.xid, zxid: h.zxid.readBigInt64BE(0), err: h.err, body, offset };
}

/** A failure before the reconfig request left: the next server may be tried. */
class NotSentError extends Error {}

function zkErrorToApp(code: number, server: string): AppError {
  const zkName = RECONFIG_ERROR_NAMES[code] ?? `error ${code}`;
  const appCode = APP_CODE_BY_ZK[zkName] ?? 'INTERNAL';
  const hint =
    zkName === 'NOAUTH' || zkName === 'AUTHFAILED'
      ? ': reconfig needs the super user (superDigest) or skipACL on the servers'
      : zkName === 'RECONFIGDISABLED'
        ? ': the servers run without reconfigEnabled=true'
        : zkName === 'NEWCONFIGNOQUORUM'
          ? ': a quorum of the new configuration is not connected and in sync with the leader'
          : zkName === 'BADVERSION'
            ? ': the configuration changed since it was read'
            : '';
  return new AppError(
    appCode,
    `ZooKeeper reconfig via ${server} failed: ${zkName}${hint}`,
    { zkCode: code, zkName, server },
    {
      cause: new ReconfigError(code, zkName),
    },
  );
}

async function reconfigVia(
  host: string,
  port: number,
  auth: ZkAuth | null,
  payload: ReconfigRequestRecord,
  timeoutMs: number,
): Promise<ReconfigResult> {
  const server = `${host}:${port}`;
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  const reader = new FrameReader(socket);
  let sent = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });

  const exchange = async (): Promise<ReconfigResult> => {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    await openSession(socket, reader, timeoutMs);
    if (auth) await authenticate(socket, reader, auth, server);
    const reconfigXid = 1;
    sent = true;
    const { config, zxid } = await requestReconfig(socket, reader, payload, reconfigXid, server);
    // Close the session so the server forgets it now rather than after its timeout.
    socket.write(frame(header(reconfigXid + 1, OP_CLOSE_SESSION), null));
    await Promise.race([reader.next().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    return { config, zxid, server };
  };

  try {
    return await Promise.race([exchange(), deadline]);
  } catch (err) {
    if (err instanceof AppError) throw err;
    const message = (err as Error).message;
    if (!sent) throw new NotSentError(`${server}: ${message}`, { cause: err });
    throw new AppError(
      'ZK_UNAVAILABLE',
      `ZooKeeper reconfig via ${server}: ${message} (outcome unknown: read /zookeeper/config)`,
      { server },
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/** Opens a session on the connection; throws when the server refuses one. */
async function openSession(socket: net.Socket, reader: FrameReader, timeoutMs: number): Promise<void> {
  // Session: protocol 0, no zxid seen, a timeout long enough for the leader to gather the new
  // quorum, a new session (id 0, empty password), then readOnly=false as current clients send it.
  const connect = new jute.protocol.ConnectRequest();
  connect.protocolVersion = 0;
  connect.timeOut = Math.max(4000, timeoutMs);
  connect.passwd = Buffer.alloc(16);
  const size = connect.byteLength();
  const hello = Buffer.alloc(4 + size + 1);
  hello.writeInt32BE(size + 1, 0);
  connect.serialize(hello, 4);
  hello.writeUInt8(0, 4 + size);
  socket.write(hello);
  const connected = new jute.protocol.ConnectResponse();
  connected.deserialize(await reader.next(), 0);
  // A server without a quorum closes the socket instead (FrameReader rejects); 0 means refused.
  if (connected.timeOut <= 0) throw new Error('session refused');
}

/** Adds the credentials to the session (`addauth`); ZooKeeper's refusal as an AppError. */
async function authenticate(socket: net.Socket, reader: FrameReader, auth: ZkAuth, server: string): Promise<void> {
  const packet = new jute.protocol.AuthPacket();
  packet.type = 0;
  packet.scheme = auth.scheme;
  packet.auth = Buffer.from(auth.auth, 'utf8');
  socket.write(frame(header(XID_AUTH, OP_AUTH), packet));
  // Answered once checked; on failure the server answers AUTHFAILED and closes the socket.
  const reply = readReply(await reader.next());
  if (reply.err !== 0) throw zkErrorToApp(reply.err, server);
}

/** Sends the reconfig request and reads its answer: the new configuration and the zxid that committed it. */
async function requestReconfig(
  socket: net.Socket,
  reader: FrameReader,
  payload: ReconfigRequestRecord,
  xid: number,
  server: string,
): Promise<{ config: DynamicConfig; zxid: string }> {
  socket.write(frame(header(xid, OP_RECONFIG), payload));
  let reply = readReply(await reader.next());
  // A fresh session without watches gets no notifications (xid -1), but skip any non-answer.
  while (reply.xid !== xid) reply = readReply(await reader.next());
  if (reply.err !== 0) throw zkErrorToApp(reply.err, server);
  const response = new jute.protocol.GetDataResponse();
  response.deserialize(reply.body, reply.offset);
  const data = response.data;
  const config = parseDynamicConfig(data ? data.toString('utf8') : '');
  return { config, zxid: `0x${reply.zxid.toString(16)}` };
}

/**
 * Runs one `reconfig` and returns the committed configuration (version and members).
 *
 * Incremental (`add` / `remove`) or whole (`members`), optionally guarded by `fromVersion`. Servers
 * of the connection string are tried in order while they cannot be reached; once one has taken the
 * request, its answer is final (a reconfig is not retried blindly: on a timeout its outcome is
 * unknown, read /zookeeper/config). Errors: AppError with ZooKeeper's code name in `details.zkName`:
 * BAD_INPUT (BADARGUMENTS: e.g. removing the last voters, or a port clash), CONFLICT (BADVERSION,
 * RECONFIGINPROGRESS), NO_QUORUM (NEWCONFIGNOQUORUM), NOT_SUPPORTED (RECONFIGDISABLED), ZK_UNAVAILABLE.
 */
export async function reconfig(options: ReconfigOptions, change: ReconfigChange): Promise<ReconfigResult> {
  validateChange(change);
  const payload = new ReconfigRequestRecord(
    change.add?.length ? change.add.join(',') : null,
    change.remove?.length ? change.remove.join(',') : null,
    change.members ? change.members.join(',') : null,
    toVersion(change.fromVersion),
  );
  const servers = options.connectionString
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const idx = s.lastIndexOf(':');
      return { host: s.slice(0, idx).replace(/^\[|\]$/g, ''), port: Number(s.slice(idx + 1)) };
    });
  if (servers.length === 0) throw new AppError('BAD_INPUT', 'empty connection string');
  const failures: string[] = [];
  for (const s of servers) {
    try {
      return await reconfigVia(s.host, s.port, options.auth, payload, options.timeoutMs ?? 15_000);
    } catch (err) {
      // Only "no session there" moves on; once a server took the request its answer is final.
      if (!(err instanceof NotSentError)) throw err;
      failures.push(err.message);
    }
  }
  throw new AppError('ZK_UNAVAILABLE', `no ZooKeeper server took the reconfig: ${failures.join('; ')}`, { failures });
}
