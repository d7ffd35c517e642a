/**
 * The client's connection to the ensemble, under the node operations of client.ts: the session's state as callers
 * see it, authentication that survives failovers, the watchdog that leaves a server gone mute, close, and the
 * deadline every library call runs under, with the library's errors turned into ZkError / AppError (client.ts's
 * file comment says which is which).
 */
import { EventEmitter } from 'node:events';
import { AppError } from '@zkha/core';

import { ZkError, type ZkErrorCode } from './errors.ts';
import { zookeeper, type LibClient, type LibException, type LibPacket, type LibState } from './library.ts';
import type { ZkDigestCredentials } from './types.ts';

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

export interface ZkClientEvents {
  state: [ZkClientState];
}

/** jute op code of an AuthPacket (lib/jute OP_CODES.AUTH). */
const OP_AUTH = 100;

/** Turns a library error into ZkError / AppError (client.ts's file comment says which). */
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

/** The connection and session of a ZkClient, which adds the node operations; never made on its own. */
export abstract class ZkConnection extends EventEmitter<ZkClientEvents> {
  private currentState: ZkClientState = 'connecting';
  private watchdog: NodeJS.Timeout | null = null;
  private watchdogBusy = false;
  private closing: Promise<void> | null = null;
  /** The digest credentials this client authenticates with (createTtl's own connection sends them too). */
  protected credentials: ZkDigestCredentials | null = null;

  protected constructor(
    protected readonly raw: LibClient,
    readonly connectionString: string,
    protected readonly operationTimeoutMs: number,
    private readonly watchdogIntervalMs: number,
  ) {
    super();
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
  protected authenticate(auth: ZkDigestCredentials): void {
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

  /**
   * Runs one library call with a deadline. The library queues requests while disconnected and
   * would answer only after reconnecting (or never); past the deadline we reject with
   * ZK_UNAVAILABLE. The request may still be executed later: a timed-out write has an unknown
   * outcome, like a CONNECTION_LOSS.
   */
  protected call<T>(op: string, path: string | undefined, fn: (cb: (err: unknown, result?: T) => void) => void): Promise<T> {
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

  protected startWatchdog(): void {
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
