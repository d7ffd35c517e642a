/**
 * When authentication is on: open to the local operator on loopback with no token, locked the moment a token
 * exists (one made by `zkha token create` included), refused start-up beyond loopback without one; and
 * READ_ONLY. Real server, real SQLite file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiToken, createDb, revokeApiToken } from '@zkha/db';

import { buildApp } from './app.ts';
import { assertSafeBinding, authSettingsFrom, isLoopbackHost, UnsafeBindingError } from './auth.ts';
import { boot } from './boot.ts';
import { ConfigError, loadConfig } from './config.ts';
import { bootTestServer, testServerEnv, type TestServer } from './testing.ts';

let t: TestServer;

beforeAll(async () => {
  t = await bootTestServer({ READ_ONLY: 'true' });
}, 180_000);

afterAll(async () => {
  await t?.close();
});

async function http(base: string, method: string, p: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, headers: res.headers };
}

async function trpc(base: string, proc: string, input: unknown, headers: Record<string, string> = {}) {
  return http(base, 'POST', `/trpc/${proc}`, headers, input);
}

describe('open local mode (loopback, no token anywhere)', () => {
  it('everyone is the local operator: changes work and are recorded as `local` (same services, READ_ONLY off)', async () => {
    const app = await buildApp({ services: t.server.services, auth: { ...authSettingsFrom(loadConfig({})), readOnly: false } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const me = await http(base, 'GET', '/api/auth/me');
      expect(me.json).toMatchObject({ authRequired: false, kind: 'local', role: 'operator', csrfToken: null });
      expect((await http(base, 'POST', '/api/nodes/zk1/drain', {}, { reason: 'open mode' })).status).toBe(200);
      const undrain = await trpc(base, 'nodes.undrain', { node: 'zk1' });
      expect(undrain.status).toBe(200);
      expect(t.server.services.operations.list({ action: 'drain', limit: 1 }).items[0]?.actor).toBe('local');
      expect(t.server.services.operations.list({ action: 'undrain', limit: 1 }).items[0]?.actor).toBe('local');
      // A stale token in the environment does not matter while authentication is off.
      expect((await http(base, 'GET', '/api/nodes', { authorization: 'Bearer whatever' })).status).toBe(200);
      // Logging in makes no sense here, and the answer says so.
      expect((await http(base, 'POST', '/api/auth/login', {}, { token: 'x' })).json.error.message).toMatch(/authentication is off/);
    } finally {
      await app.close();
    }
  });

  it('answers only requests addressed to a loopback name (a rebound hostname is refused)', async () => {
    const res = await http(t.url, 'GET', '/api/nodes', { host: 'evil.example:8080' });
    // undici may refuse to override Host; when it does send it, the server must refuse.
    if (res.status !== 200) {
      expect(res.status).toBe(403);
      expect(res.json.error.message).toMatch(/only answers requests addressed to 127\.0\.0\.1 or localhost/);
    }
    const app = await buildApp({ services: t.server.services });
    try {
      const injected = await app.inject({ method: 'GET', url: '/api/nodes', headers: { host: 'evil.example' } });
      expect(injected.statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/api/nodes', headers: { host: '127.0.0.1:8080' } })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses a mutation from a foreign web page even in open mode', async () => {
    const res = await http(t.url, 'POST', '/api/nodes/zk1/undrain', { origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/cross-origin request refused/);
  });
});

describe('READ_ONLY=true', () => {
  it('reads answer, every mutation is refused with a message naming read-only mode (tRPC and REST)', async () => {
    expect((await http(t.url, 'GET', '/api/nodes')).status).toBe(200);
    const rest = await http(t.url, 'POST', '/api/nodes/zk2/drain', {}, { reason: 'read-only test' });
    expect(rest.status).toBe(403);
    expect(rest.json.error).toEqual({
      code: 'READ_ONLY',
      message: 'the server is in read-only mode (READ_ONLY=true): changes are refused',
    });
    const viaTrpc = await trpc(t.url, 'scheduler.run', {});
    expect(viaTrpc.status).toBe(403);
    expect(viaTrpc.json.error.message).toMatch(/read-only mode \(READ_ONLY=true\)/);
    expect((await http(t.url, 'GET', '/api/auth/me')).json).toMatchObject({ readOnly: true });
    expect(t.server.services.operations.list({ action: 'scheduler_run' }).total).toBe(0);
  });
});

describe('a token created with the CLI (straight into the database file)', () => {
  it('locks the running server at once; the token reads; revoking it leaves the server locked', async () => {
    const database = createDb(path.join(t.dir, 'zkha.db'));
    try {
      const { secret } = createApiToken(database.db, { name: 'cli-made', role: 'viewer' });
      const anonymous = await http(t.url, 'GET', '/api/nodes');
      expect(anonymous.status).toBe(401);
      expect(anonymous.json.error.message).toMatch(/authentication required/);
      const withToken = await http(t.url, 'GET', '/api/nodes', { authorization: `Bearer ${secret}` });
      expect(withToken.status).toBe(200);
      // The last-used time is kept, for `zkha token list`.
      expect(database.sqlite.prepare('select last_used_at from api_tokens where name = ?').get('cli-made')).toMatchObject({
        last_used_at: expect.any(String),
      });

      revokeApiToken(database.db, 'cli-made');
      const revoked = await http(t.url, 'GET', '/api/nodes', { authorization: `Bearer ${secret}` });
      expect(revoked.status).toBe(401);
      expect(revoked.json.error.message).toMatch(/unknown or revoked/);
      expect((await http(t.url, 'GET', '/api/nodes')).status).toBe(401);
    } finally {
      database.close();
    }
  });
});

describe('binding beyond loopback', () => {
  it('with no token the server refuses to start, says why, and starts nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'zkha-bind-'));
    try {
      const config = loadConfig({ ...(await testServerEnv(dir)), HOST: '0.0.0.0' });
      const started = Date.now();
      await expect(boot(config)).rejects.toThrow(UnsafeBindingError);
      await expect(boot(config)).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without authentication.*API_TOKENS=.*zkha token create/);
      expect(Date.now() - started).toBeLessThan(10_000); // no ensemble was started first (it takes longer than that to stop)

      // A configured token, or one in the database, is enough.
      expect(() =>
        assertSafeBinding({ ...config, API_TOKENS: [{ name: 'ops', role: 'operator', secret: '0123456789abcdef0123' }] }),
      ).not.toThrow();
      const database = createDb(config.DATABASE_PATH);
      createApiToken(database.db, { name: 'ops', role: 'operator' });
      database.close();
      expect(() => assertSafeBinding(config)).not.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('knows which addresses are loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'zkha.example.com', '']) expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('auth configuration', () => {
  it('parses API_TOKENS and the other keys', () => {
    const c = loadConfig({
      API_TOKENS: 'ci:operator:abcdefghijklmnop:with:colons, grafana:viewer:0123456789abcdef',
      READ_ONLY: 'yes',
      TRUSTED_ORIGINS: 'https://zkha.example.com/',
    });
    expect(c.API_TOKENS).toEqual([
      { name: 'ci', role: 'operator', secret: 'abcdefghijklmnop:with:colons' },
      { name: 'grafana', role: 'viewer', secret: '0123456789abcdef' },
    ]);
    expect(c).toMatchObject({
      READ_ONLY: true,
      TRUSTED_ORIGINS: ['https://zkha.example.com'],
      RATE_LIMIT_WORK_PER_MINUTE: 60,
      SESSION_TTL_HOURS: 12,
    });
    expect(loadConfig({}).API_TOKENS).toEqual([]);
  });

  it.each([
    ['ci:admin:0123456789abcdef'],
    ['ci:operator:short'],
    ['bad name:viewer:0123456789abcdef'],
    ['a:viewer:0123456789abcdef,a:operator:0123456789abcdef'],
  ])('refuses API_TOKENS=%s without printing the secret', (value) => {
    let message = '';
    try {
      loadConfig({ API_TOKENS: value });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/API_TOKENS="\(hidden\)": accepts/);
    expect(message).not.toContain('0123456789abcdef');
    expect(message).not.toContain('short');
  });
});
