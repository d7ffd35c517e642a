/**
 * Authentication: who is calling, from a bearer token (configured in API_TOKENS or created with
 * `zkha token create`) or a console session cookie. Whether authentication is on at all is decided per request:
 * off (everyone is the `local` operator) only while the server listens on loopback and no token was ever set
 * up, so `npm start` on a laptop needs nothing and the first token created locks the door at once.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';

import type { Identity, TRole } from '@zkha/api';
import {
  createAuthSession,
  createDb,
  deleteAuthSession,
  deleteExpiredAuthSessions,
  findActiveApiToken,
  findActiveApiTokenByName,
  findAuthSession,
  hasActiveApiToken,
  hasAnyApiToken,
  hashSecret,
  touchApiToken,
  type Db,
} from '@zkha/db';

import type { AppConfig, ConfiguredToken } from './config.ts';

export interface AuthSettings {
  /** Tokens from API_TOKENS. */
  tokens: readonly ConfiguredToken[];
  readOnly: boolean;
  /** The address the server listens on: beyond loopback, authentication is always on. */
  host: string;
  sessionTtlMs: number;
  /** Work-creating mutations per minute per identity; 0 = unlimited. */
  workPerMinute: number;
  /** Origins besides the server's own that may send browser mutations. */
  trustedOrigins: readonly string[];
}

export function authSettingsFrom(config: AppConfig): AuthSettings {
  return {
    tokens: config.API_TOKENS,
    readOnly: config.READ_ONLY,
    host: config.HOST,
    sessionTtlMs: config.SESSION_TTL_HOURS * 3_600_000,
    workPerMinute: config.RATE_LIMIT_WORK_PER_MINUTE,
    trustedOrigins: config.TRUSTED_ORIGINS,
  };
}

/** Settings for a server that checks nothing: loopback, no tokens (buildApp's default, as before auth existed). */
export const OPEN_LOCAL_SETTINGS: AuthSettings = {
  tokens: [],
  readOnly: false,
  host: '127.0.0.1',
  sessionTtlMs: 12 * 3_600_000,
  workPerMinute: 0,
  trustedOrigins: [],
};

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

export class UnsafeBindingError extends Error {
  override readonly name = 'UnsafeBindingError';
}

/**
 * Refuses to serve beyond loopback with no way to authenticate: anyone on the network could otherwise stop
 * ZooKeeper servers and move data. Checked before anything starts; opens the database only when API_TOKENS
 * is empty, to look for tokens made with `zkha token create`.
 */
export function assertSafeBinding(config: AppConfig): void {
  if (isLoopbackHost(config.HOST) || config.API_TOKENS.length > 0) return;
  const database = createDb(path.resolve(config.DATABASE_PATH));
  try {
    if (hasActiveApiToken(database.db)) return;
  } finally {
    database.close();
  }
  throw new UnsafeBindingError(
    `refusing to listen on ${config.HOST} without authentication: anyone who can reach it could stop ZooKeeper servers and move data. ` +
      'Set API_TOKENS=<name>:operator:<secret> (secrets of at least 16 characters), or create a token with ' +
      `\`zkha token create <name> --role operator --db ${config.DATABASE_PATH}\`, or listen on 127.0.0.1 only (HOST=127.0.0.1).`,
  );
}

/** A session as the request sees it. */
export interface SessionView {
  identity: Identity;
  csrfToken: string;
  expiresAt: string;
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** How often a token's last-used time is written: once a minute is plenty, and keeps reads from writing. */
const TOUCH_INTERVAL_MS = 60_000;

export class Authenticator {
  private readonly configured: Map<string, ConfiguredToken & { hash: string }>;
  private readonly loopback: boolean;
  private readonly touched = new Map<number, number>();

  constructor(
    private readonly db: Db,
    readonly settings: AuthSettings,
  ) {
    this.configured = new Map(settings.tokens.map((t) => [t.name, { ...t, hash: hashSecret(t.secret) }]));
    this.loopback = isLoopbackHost(settings.host);
  }

  /**
   * Whether requests must prove who they are. Asked per request (one indexed lookup) so a token created by the
   * CLI while the server runs takes effect at once.
   */
  required(): boolean {
    return !this.loopback || this.configured.size > 0 || hasAnyApiToken(this.db);
  }

  /** The identity of a bearer secret, or null when no active token has it. */
  verifyToken(secret: string): Identity | null {
    const hash = hashSecret(secret);
    for (const t of this.configured.values()) {
      if (sameSecret(t.hash, hash)) return { kind: 'token', name: t.name, role: t.role };
    }
    const row = findActiveApiToken(this.db, hash);
    if (!row) return null;
    const now = Date.now();
    if (now - (this.touched.get(row.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.touched.set(row.id, now);
      touchApiToken(this.db, row.id);
    }
    return { kind: 'token', name: row.name, role: row.role };
  }

  private roleOf(name: string): TRole | null {
    return this.configured.get(name)?.role ?? findActiveApiTokenByName(this.db, name)?.role ?? null;
  }

  /** Opens a console session for a verified token; returns the cookie's value (shown once) and the session. */
  openSession(token: Identity): { cookieId: string; session: SessionView } {
    deleteExpiredAuthSessions(this.db);
    const cookieId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.settings.sessionTtlMs).toISOString();
    createAuthSession(this.db, { idHash: hashSecret(cookieId), identity: token.name, role: token.role, csrfToken, expiresAt });
    return { cookieId, session: { identity: { kind: 'session', name: token.name, role: token.role }, csrfToken, expiresAt } };
  }

  /** The live session for a cookie value: not expired, and its token not revoked nor removed from API_TOKENS. */
  session(cookieId: string): SessionView | null {
    const row = findAuthSession(this.db, hashSecret(cookieId));
    if (!row) return null;
    const role = this.roleOf(row.identity);
    if (role === null) {
      deleteAuthSession(this.db, row.idHash);
      return null;
    }
    // The token's role today wins over the one it had at login (least privilege if it was lowered).
    const effective: TRole = role === 'viewer' || row.role === 'viewer' ? 'viewer' : 'operator';
    return { identity: { kind: 'session', name: row.identity, role: effective }, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
  }

  closeSession(cookieId: string): void {
    deleteAuthSession(this.db, hashSecret(cookieId));
  }
}
