import { describe, expect, it } from 'vitest';

import { useTempDb } from '../test-helpers.ts';
import {
  createApiToken,
  createAuthSession,
  deleteExpiredAuthSessions,
  findActiveApiToken,
  findAuthSession,
  hashSecret,
  hasActiveApiToken,
  hasAnyApiToken,
  listApiTokens,
  revokeApiToken,
} from './auth.ts';

describe('auth repository', () => {
  const temp = useTempDb();

  it('stores only the hash of a 256-bit secret and finds the token by it', () => {
    const { db, sqlite } = temp.open();
    expect(hasAnyApiToken(db)).toBe(false);
    const { token, secret } = createApiToken(db, { name: 'ci', role: 'operator' });
    expect(secret).toMatch(/^zkha_[A-Za-z0-9_-]{43}$/); // 32 bytes in base64url
    expect(token).toMatchObject({ name: 'ci', role: 'operator', revokedAt: null });
    const stored = sqlite.prepare('select token_hash from api_tokens').get() as { token_hash: string };
    expect(stored.token_hash).toBe(hashSecret(secret));
    expect(JSON.stringify(sqlite.prepare('select * from api_tokens').all())).not.toContain(secret);
    expect(findActiveApiToken(db, hashSecret(secret))?.name).toBe('ci');
    expect(findActiveApiToken(db, hashSecret(`${secret}x`))).toBeNull();
    expect(hasAnyApiToken(db) && hasActiveApiToken(db)).toBe(true);
  });

  it('refuses a duplicate active name, bad names and roles; a revoked name can be reused', () => {
    const { db } = temp.open();
    const first = createApiToken(db, { name: 'alice', role: 'viewer' });
    expect(() => createApiToken(db, { name: 'alice', role: 'operator' })).toThrow(/exists already/);
    expect(() => createApiToken(db, { name: 'bad name', role: 'viewer' })).toThrow(/token name/);
    expect(() => createApiToken(db, { name: 'bob', role: 'admin' })).toThrow(/viewer or operator/);

    expect(revokeApiToken(db, 'alice')).toBe(true);
    expect(revokeApiToken(db, 'alice')).toBe(false);
    expect(findActiveApiToken(db, hashSecret(first.secret))).toBeNull();
    expect(hasAnyApiToken(db)).toBe(true); // revoked rows still mean "auth was set up"
    expect(hasActiveApiToken(db)).toBe(false);

    const second = createApiToken(db, { name: 'alice', role: 'operator' });
    expect(second.secret).not.toBe(first.secret);
    expect(listApiTokens(db).map((t) => [t.name, t.role, t.revokedAt])).toEqual([['alice', 'operator', null]]);
  });

  it('sessions expire, and revoking a token ends the sessions opened with it', () => {
    const { db } = temp.open();
    createApiToken(db, { name: 'alice', role: 'operator' });
    const future = new Date(Date.now() + 60_000).toISOString();
    createAuthSession(db, { idHash: hashSecret('s1'), identity: 'alice', role: 'operator', csrfToken: 'c1', expiresAt: future });
    createAuthSession(db, {
      idHash: hashSecret('s2'),
      identity: 'alice',
      role: 'operator',
      csrfToken: 'c2',
      expiresAt: new Date(Date.now() - 1).toISOString(),
    });
    expect(findAuthSession(db, hashSecret('s1'))?.csrfToken).toBe('c1');
    expect(findAuthSession(db, hashSecret('s2'))).toBeNull(); // expired
    expect(deleteExpiredAuthSessions(db)).toBe(0); // the expired one was removed on read
    revokeApiToken(db, 'alice');
    expect(findAuthSession(db, hashSecret('s1'))).toBeNull();
  });
});
