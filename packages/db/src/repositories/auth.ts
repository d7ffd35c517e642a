/**
 * API tokens and web console sessions. Secrets never reach the database: a token is stored as the SHA-256 of
 * its secret, a session as the SHA-256 of its cookie id, so a copy of the database file lets nobody in.
 * SHA-256 (not a slow password hash) is enough because every secret is 256 random bits, not a human password.
 */
import { createHash, randomBytes } from 'node:crypto';

import { and, asc, eq, isNull, lte, sql } from 'drizzle-orm';

import { AppError } from '@zkha/core';

import type { Db } from '../client.ts';
import { apiTokens, authSessions, ROLES, type ApiTokenRow, type AuthSessionRow } from '../schema.ts';
import { isUniqueViolation, nowIso } from './util.ts';

export type TAuthRole = (typeof ROLES)[number];

/** Token names: what `token:<name>` shows in the operations log, so short and plain. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The prefix makes a leaked zkha token recognisable to secret scanners and to the person who finds it. */
const TOKEN_PREFIX = 'zkha_';

/** A fresh secret: 256 random bits, URL-safe, so it fits a header, an env var and a shell argument as is. */
export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What is stored for a secret (token or session id): lowercase hex SHA-256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A token as listed: everything but its hash. */
export interface ApiTokenInfo {
  id: number;
  name: string;
  role: TAuthRole;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function toInfo(row: ApiTokenRow): ApiTokenInfo {
  return { id: row.id, name: row.name, role: row.role, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

function checkName(name: string): void {
  if (!TOKEN_NAME_PATTERN.test(name)) {
    throw new AppError('BAD_INPUT', `token name "${name}" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

function checkRole(role: string): asserts role is TAuthRole {
  if (!(ROLES as readonly string[]).includes(role)) throw new AppError('BAD_INPUT', `role must be viewer or operator, got "${role}"`);
}

/**
 * Creates a token and returns its secret, the only time anyone sees it. A revoked token's name may be used
 * again (its row is reused, so the name stays unique); an active one's may not.
 */
export function createApiToken(db: Db, input: { name: string; role: string }): { token: ApiTokenInfo; secret: string } {
  checkName(input.name);
  checkRole(input.role);
  const secret = newTokenSecret();
  const values = {
    name: input.name,
    role: input.role,
    tokenHash: hashSecret(secret),
    createdAt: nowIso(),
    lastUsedAt: null,
    revokedAt: null,
  };
  return db.transaction((tx) => {
    const existing = tx.select().from(apiTokens).where(eq(apiTokens.name, input.name)).get();
    if (existing && existing.revokedAt === null) {
      throw new AppError('CONFLICT', `a token named "${input.name}" exists already: revoke it first or pick another name`);
    }
    try {
      const row = existing
        ? tx.update(apiTokens).set(values).where(eq(apiTokens.id, existing.id)).returning().get()
        : tx.insert(apiTokens).values(values).returning().get();
      return { token: toInfo(row), secret };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('CONFLICT', `a token named "${input.name}" exists already`);
      throw err;
    }
  });
}

/** Every token, active and revoked, oldest first. */
export function listApiTokens(db: Db): ApiTokenInfo[] {
  return db.select().from(apiTokens).orderBy(asc(apiTokens.id)).all().map(toInfo);
}

/**
 * Revokes a token and ends the console sessions opened with it (a session belongs to the token's name).
 * Returns false when no active token has that name.
 */
export function revokeApiToken(db: Db, name: string): boolean {
  return db.transaction((tx) => {
    const row = tx
      .update(apiTokens)
      .set({ revokedAt: nowIso() })
      .where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)))
      .returning()
      .get();
    if (!row) return false;
    tx.delete(authSessions).where(eq(authSessions.identity, name)).run();
    return true;
  });
}

/**
 * The lookups every authenticated request makes, prepared once per database handle: building a Drizzle query
 * costs more than SQLite takes to answer it.
 */
function prepareLookups(db: Db) {
  return {
    anyToken: db.select({ id: apiTokens.id }).from(apiTokens).limit(1).prepare(),
    activeByHash: db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.tokenHash, sql.placeholder('hash')), isNull(apiTokens.revokedAt)))
      .prepare(),
    sessionByHash: db
      .select()
      .from(authSessions)
      .where(eq(authSessions.idHash, sql.placeholder('hash')))
      .prepare(),
  };
}
const lookups = new WeakMap<Db, ReturnType<typeof prepareLookups>>();
function lookupsFor(db: Db): ReturnType<typeof prepareLookups> {
  let l = lookups.get(db);
  if (!l) lookups.set(db, (l = prepareLookups(db)));
  return l;
}

/** The active token whose secret hashes to `tokenHash`, or null. */
export function findActiveApiToken(db: Db, tokenHash: string): ApiTokenInfo | null {
  const row = lookupsFor(db).activeByHash.get({ hash: tokenHash });
  return row ? toInfo(row) : null;
}

/** The active token with that name, or null. */
export function findActiveApiTokenByName(db: Db, name: string): ApiTokenInfo | null {
  const row = db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)))
    .get();
  return row ? toInfo(row) : null;
}

export function touchApiToken(db: Db, id: number, at: string = nowIso()): void {
  db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id)).run();
}

/**
 * Whether any token row exists, revoked ones included: once tokens have been set up, revoking the last one
 * must lock the server, not silently reopen it to everyone.
 */
export function hasAnyApiToken(db: Db): boolean {
  return lookupsFor(db).anyToken.get() !== undefined;
}

/** Whether a token could authenticate right now. */
export function hasActiveApiToken(db: Db): boolean {
  return db.select({ id: apiTokens.id }).from(apiTokens).where(isNull(apiTokens.revokedAt)).limit(1).get() !== undefined;
}

export interface NewAuthSession {
  /** SHA-256 of the cookie's random id. */
  idHash: string;
  /** The token name the session was opened with. */
  identity: string;
  role: TAuthRole;
  csrfToken: string;
  expiresAt: string;
}

export function createAuthSession(db: Db, input: NewAuthSession): AuthSessionRow {
  return db
    .insert(authSessions)
    .values({ ...input, createdAt: nowIso() })
    .returning()
    .get();
}

/** The session with that id hash, or null when there is none or it has expired (an expired one is deleted). */
export function findAuthSession(db: Db, idHash: string, now: string = nowIso()): AuthSessionRow | null {
  const row = lookupsFor(db).sessionByHash.get({ hash: idHash });
  if (!row) return null;
  if (row.expiresAt <= now) {
    db.delete(authSessions).where(eq(authSessions.idHash, idHash)).run();
    return null;
  }
  return row;
}

export function deleteAuthSession(db: Db, idHash: string): boolean {
  return db.delete(authSessions).where(eq(authSessions.idHash, idHash)).run().changes > 0;
}

/** Removes sessions past their expiry; returns how many. */
export function deleteExpiredAuthSessions(db: Db, now: string = nowIso()): number {
  return db.delete(authSessions).where(lte(authSessions.expiresAt, now)).run().changes;
}
