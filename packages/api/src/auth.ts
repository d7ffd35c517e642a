/**
 * Who may do what, decided in one place for tRPC (the middleware in trpc.ts) and REST (the server's hook):
 * a `viewer` reads everything (queries and subscriptions), an `operator` also changes things (every mutation).
 * How a caller proved who they are (bearer token, session cookie) is the server's business; this module only
 * sees the outcome.
 */
import { TokenBucket } from '@zkha/core';

export const ROLES = ['viewer', 'operator'] as const;
export type TRole = (typeof ROLES)[number];

export interface Identity {
  /** `token`: a bearer token; `session`: the console's cookie; `local`: no authentication configured. */
  kind: 'token' | 'session' | 'local';
  /** The token's name (sessions carry the name of the token they were opened with); `local` for local. */
  name: string;
  role: TRole;
}

/** What the operations log records as the actor: `token:ci`, `session:alice`, `local`. */
export function actorOf(identity: Identity): string {
  return identity.kind === 'local' ? 'local' : `${identity.kind}:${identity.name}`;
}

export const LOCAL_IDENTITY: Identity = { kind: 'local', name: 'local', role: 'operator' };

/** One request's standing, built by the server for each request. */
export interface RequestAuth {
  /** Null when the request proved no identity while authentication is required. */
  identity: Identity | null;
  /** Why `identity` is null, in words for the 401 ("the bearer token is unknown or revoked"). */
  problem: string | null;
  /**
   * Why this request may change nothing even with the right role: a browser request from a foreign Origin,
   * or a cookie-authenticated one without the session's CSRF token. Null when it is fine.
   */
  forgery?: string | null;
  /** READ_ONLY=true: every mutation is refused, whoever asks. */
  readOnly: boolean;
  /** The per-identity allowance for work-creating mutations; null = unlimited. */
  limiter: WorkLimiter | null;
}

/** Server-side callers (tests' createCaller, scripts) act as the local operator unless they say otherwise. */
export const LOCAL_AUTH: RequestAuth = { identity: LOCAL_IDENTITY, problem: null, readOnly: false, limiter: null };

export type AccessKind = 'query' | 'subscription' | 'mutation';

export interface AccessDenied {
  status: 401 | 403;
  /** UNAUTHORIZED (no identity), FORBIDDEN (role too low), READ_ONLY (server refuses every mutation). */
  code: 'UNAUTHORIZED' | 'FORBIDDEN' | 'READ_ONLY';
  message: string;
}

export function requiredRole(kind: AccessKind): TRole {
  return kind === 'mutation' ? 'operator' : 'viewer';
}

function roleAllows(role: TRole, needed: TRole): boolean {
  return role === 'operator' || needed === 'viewer';
}

/** Null when the request may go ahead; otherwise the status and the words to answer with. */
export function checkAccess(auth: RequestAuth, kind: AccessKind): AccessDenied | null {
  const identity = auth.identity;
  if (!identity) {
    return {
      status: 401,
      code: 'UNAUTHORIZED',
      message: `authentication required: ${auth.problem ?? 'send Authorization: Bearer <token>, or log in to the console'}`,
    };
  }
  if (kind === 'mutation' && auth.forgery) return { status: 403, code: 'FORBIDDEN', message: auth.forgery };
  if (kind === 'mutation' && auth.readOnly) {
    return { status: 403, code: 'READ_ONLY', message: 'the server is in read-only mode (READ_ONLY=true): changes are refused' };
  }
  const needed = requiredRole(kind);
  if (!roleAllows(identity.role, needed)) {
    return { status: 403, code: 'FORBIDDEN', message: `${actorOf(identity)} has the ${identity.role} role; this needs ${needed}` };
  }
  return null;
}

/**
 * The mutations that create work (files, load, uploads): each costs one unit of the caller's allowance.
 * Named by tRPC path; the REST routes that do the same are listed beside their handlers in the server.
 */
export const WORK_PROCEDURES: ReadonlySet<string> = new Set(['workload.stress', 'files.bulkGenerate', 'files.upload', 'workload.start']);

/** Thrown (as a TRPCError's cause) when a caller is out of allowance; the server turns it into Retry-After. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(readonly retryAfterSec: number) {
    super(`too many requests that create work: try again in ${retryAfterSec} s`);
  }
}

export interface WorkLimiterOptions {
  /** Units per minute per identity, refilled continuously; the bucket holds at most `burst` (default: one minute's worth). */
  perMinute: number;
  burst?: number;
  now?: () => number;
  /** Keys kept at most (default 10,000): the login limiter's keys are client addresses, which anyone can vary. */
  maxKeys?: number;
}

/**
 * A token bucket per identity, reusing the migration throttle's bucket: one unit per work-creating request.
 * Unlike a byte stream, a request that finds the bucket empty is refused, not queued, so a unit is only taken
 * when one is there.
 */
export class WorkLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly ratePerSec: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(options: WorkLimiterOptions) {
    if (!(options.perMinute > 0)) throw new RangeError(`perMinute must be > 0, got ${options.perMinute}`);
    this.ratePerSec = options.perMinute / 60;
    this.burst = Math.max(1, options.burst ?? options.perMinute);
    this.now = options.now ?? Date.now;
    this.maxKeys = Math.max(1, options.maxKeys ?? 10_000);
  }

  /** Keys held now (never more than `maxKeys`). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one unit for `key`: 0 when granted, otherwise whole seconds to wait (at least 1). */
  take(key: string): number {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.prune();
      bucket = new TokenBucket({ ratePerSec: this.ratePerSec, burst: this.burst, now: this.now });
      this.buckets.set(key, bucket);
    }
    const available = bucket.available();
    if (available >= 1) {
      bucket.take(1);
      return 0;
    }
    return Math.max(1, Math.ceil((1 - available) / this.ratePerSec));
  }

  /** Makes room for one key: a full bucket is the same as none, so those go first; then the oldest keys. */
  private prune(): void {
    for (const [key, bucket] of this.buckets) if (bucket.available() >= this.burst) this.buckets.delete(key);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
