/**
 * TTL znodes: persistent nodes ZooKeeper deletes once they have had no children and no change for `ttlMs`
 * (3.5.3+, on servers started with `zookeeper.extendedTypesEnabled=true`). node-zookeeper-client has no
 * CreateTTL operation (opcode 21) and decodes every reply by an opcode table of its own, so a create with a TTL
 * goes over a short connection of its own, in ZooKeeper's wire format (jute): a session is opened, authenticated
 * with the same digest credentials when there are some, asked to create, and closed.
 */
import net from 'node:net';

import { ZkError, type ZkErrorCode } from './errors.ts';
import type { ZkAclEntry, ZkDigestCredentials, ZkStat } from './types.ts';

const OP_CREATE_TTL = 21;
const OP_AUTH = 100;
const OP_CLOSE_SESSION = -11;
const XID_AUTH = -4;
/** CreateMode.PERSISTENT_WITH_TTL and PERSISTENT_SEQUENTIAL_WITH_TTL. */
const MODE_TTL = 5;
const MODE_TTL_SEQUENTIAL = 6;
/** EphemeralType.TTL's largest value: 2^40 - 1 ms (about 34 years). */
export const MAX_TTL_MS = 2 ** 40 - 1;

/** KeeperException codes a create can answer with, by the names the rest of the package uses. */
const ERRORS: Record<number, ZkErrorCode> = {
  [-6]: 'UNIMPLEMENTED',
  [-8]: 'BAD_ARGUMENTS',
  [-101]: 'NO_NODE',
  [-102]: 'NO_AUTH',
  [-108]: 'NO_CHILDREN_FOR_EPHEMERALS',
  [-110]: 'NODE_EXISTS',
  [-114]: 'INVALID_ACL',
  [-115]: 'AUTH_FAILED',
};

class JuteWriter {
  private readonly parts: Buffer[] = [];
  int(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }
  long(n: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    this.parts.push(b);
    return this;
  }
  bool(v: boolean): this {
    this.parts.push(Buffer.from([v ? 1 : 0]));
    return this;
  }
  buffer(b: Buffer | null): this {
    if (b === null) return this.int(-1);
    this.int(b.length);
    this.parts.push(b);
    return this;
  }
  string(s: string): this {
    return this.buffer(Buffer.from(s, 'utf8'));
  }
  /** The request, length-prefixed as the server reads it. */
  frame(): Buffer {
    const body = Buffer.concat(this.parts);
    const len = Buffer.alloc(4);
    len.writeInt32BE(body.length);
    return Buffer.concat([len, body]);
  }
}

class JuteReader {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  int(): number {
    const v = this.b.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  long(): bigint {
    const v = this.b.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  string(): string {
    const len = this.int();
    if (len < 0) return '';
    const s = this.b.toString('utf8', this.at, this.at + len);
    this.at += len;
    return s;
  }
}

/** One connection's frames, in order: each `next()` resolves with the body of the next reply. */
class Frames {
  private pending = Buffer.alloc(0);
  private readonly ready: Buffer[] = [];
  private waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4 && this.pending.length >= 4 + this.pending.readInt32BE(0)) {
        const len = this.pending.readInt32BE(0);
        this.ready.push(this.pending.subarray(4, 4 + len));
        this.pending = this.pending.subarray(4 + len);
      }
      this.flush();
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      this.flush();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
  }

  private flush(): void {
    if (!this.waiting) return;
    const w = this.waiting;
    if (this.ready.length > 0) {
      this.waiting = null;
      w.resolve(this.ready.shift()!);
    } else if (this.failure) {
      this.waiting = null;
      w.reject(this.failure);
    }
  }

  next(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.flush();
    });
  }
}

function connect(hostPort: string, timeoutMs: number): Promise<net.Socket> {
  const cut = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, cut);
  const port = Number(hostPort.slice(cut + 1));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`${hostPort}: no answer within ${timeoutMs} ms`));
    });
    socket.once('error', reject);
  });
}

export interface TtlCreate {
  path: string;
  data: Buffer;
  acl: readonly ZkAclEntry[];
  sequential: boolean;
  ttlMs: number;
}

/**
 * Creates a TTL node through the first server in `connectionString` that opens a session. Resolves with the
 * created path (with its sequence number for a sequential node) and its stat; rejects with a ZkError named
 * like the library's (UNIMPLEMENTED: the servers do not allow TTL nodes).
 */
export async function createTtlNode(
  connectionString: string,
  auth: ZkDigestCredentials | null,
  req: TtlCreate,
  timeoutMs = 5000,
): Promise<{ path: string; stat: ZkStat }> {
  if (!Number.isInteger(req.ttlMs) || req.ttlMs < 1 || req.ttlMs > MAX_TTL_MS)
    throw new ZkError('BAD_ARGUMENTS', `a TTL is 1 to ${MAX_TTL_MS} ms`, req.path);
  const servers = connectionString
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let lastError: unknown = null;
  for (const server of servers) {
    let socket: net.Socket;
    try {
      socket = await connect(server, timeoutMs);
    } catch (err) {
      lastError = err;
      continue;
    }
    const timer = setTimeout(() => socket.destroy(new Error(`${server}: the create took over ${timeoutMs} ms`)), timeoutMs);
    try {
      const frames = new Frames(socket);
      if (!(await openSession(socket, frames, timeoutMs))) {
        lastError = new Error(`${server} did not open a session (not serving)`);
        continue;
      }
      if (auth) await authenticate(socket, frames, auth, req.path);
      const created = await requestCreate(socket, frames, req);
      socket.write(new JuteWriter().int(2).int(OP_CLOSE_SESSION).frame());
      return created;
    } catch (err) {
      // A refusal is the ensemble's answer: another server would give the same one.
      if (err instanceof ZkError) throw err;
      lastError = err;
    } finally {
      clearTimeout(timer);
      socket.end();
    }
  }
  throw new ZkError(
    'CONNECTION_LOSS',
    `no ZooKeeper server of ${connectionString} took the create: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    req.path,
  );
}

/** Opens a session on the connection; false when the server answers with none (it is not serving). */
async function openSession(socket: net.Socket, frames: Frames, timeoutMs: number): Promise<boolean> {
  // ConnectRequest: protocol version, last zxid seen, session timeout, session id, password, read-only.
  socket.write(new JuteWriter().int(0).long(0).int(timeoutMs).long(0).buffer(Buffer.alloc(16)).bool(false).frame());
  const session = new JuteReader(await frames.next());
  session.int(); // protocol version
  return session.int() > 0;
}

/** Adds the digest credentials to the session; AUTH_FAILED when ZooKeeper refuses them. */
async function authenticate(socket: net.Socket, frames: Frames, auth: ZkDigestCredentials, path: string): Promise<void> {
  socket.write(
    new JuteWriter()
      .int(XID_AUTH)
      .int(OP_AUTH)
      .int(0)
      .string('digest')
      .buffer(Buffer.from(`${auth.user}:${auth.password}`, 'utf8'))
      .frame(),
  );
  const reply = new JuteReader(await frames.next());
  reply.int();
  reply.long();
  const err = reply.int();
  if (err !== 0) throw new ZkError('AUTH_FAILED', 'ZooKeeper refused the digest credentials', path);
}

/** Sends the CreateTTL request and reads its answer: the created path and its stat, or the refusal as a ZkError. */
async function requestCreate(socket: net.Socket, frames: Frames, req: TtlCreate): Promise<{ path: string; stat: ZkStat }> {
  const create = new JuteWriter().int(1).int(OP_CREATE_TTL).string(req.path).buffer(req.data).int(req.acl.length);
  for (const a of req.acl) create.int(a.perms).string(a.scheme).string(a.id);
  socket.write(
    create
      .int(req.sequential ? MODE_TTL_SEQUENTIAL : MODE_TTL)
      .long(req.ttlMs)
      .frame(),
  );
  const reply = new JuteReader(await frames.next());
  reply.int(); // xid
  reply.long(); // zxid
  const err = reply.int();
  if (err !== 0) {
    const code = ERRORS[err] ?? 'SYSTEM_ERROR';
    throw new ZkError(
      code,
      code === 'UNIMPLEMENTED'
        ? 'the servers do not allow TTL nodes (zookeeper.extendedTypesEnabled is off)'
        : `ZooKeeper refused the create: ${code} (${err})`,
      req.path,
    );
  }
  const path = reply.string();
  return { path, stat: readStat(reply) };
}

/** A Stat as the server writes it, in its field order. */
function readStat(reply: JuteReader): ZkStat {
  const hex = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16)}`;
  const [czxid, mzxid, ctime, mtime] = [reply.long(), reply.long(), reply.long(), reply.long()];
  const [version, cversion, aversion] = [reply.int(), reply.int(), reply.int()];
  const ephemeralOwner = reply.long();
  const [dataLength, numChildren] = [reply.int(), reply.int()];
  const pzxid = reply.long();
  return {
    czxid: hex(czxid),
    mzxid: hex(mzxid),
    pzxid: hex(pzxid),
    ctime: Number(ctime),
    mtime: Number(mtime),
    version,
    cversion,
    aversion,
    ephemeralOwner: hex(ephemeralOwner),
    dataLength,
    numChildren,
  };
}
