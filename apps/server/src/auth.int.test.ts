/**
 * Access control through the real server (embedded ensemble, SQLite file, HTTP on free loopback ports) with
 * tokens configured: roles on tRPC, REST, SSE and /metrics, the console's cookie login with CSRF and Origin
 * checks, the actor on operation records, rate limits, and the security headers on the built console.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppRouter } from '@zkha/api';
import type { OperationRecord } from '@zkha/core';
import { authSessions, hashSecret } from '@zkha/db';

import { bootTestServer, type TestServer } from './testing.ts';

const VIEWER = 'viewer-secret-0123456789abcdef';
const OPERATOR = 'operator-secret-0123456789abcdef';
const WEB_ROOT = fileURLToPath(new URL('../../web', import.meta.url));

let t: TestServer;
let url: string;
let webDir: string;

beforeAll(async () => {
  // A fresh build of the console: the test checks what `npm run build` ships, not a stale dist/.
  webDir = await mkdtemp(path.join(tmpdir(), 'zkha-web-'));
  // vite's package.json exports no bin path: find the package, then its bin next to it.
  const vite = path.join(path.dirname(createRequire(path.join(WEB_ROOT, 'package.json')).resolve('vite/package.json')), 'bin/vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--outDir', webDir, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: WEB_ROOT,
  });
  t = await bootTestServer(
    { API_TOKENS: `grafana:viewer:${VIEWER},ops:operator:${OPERATOR}`, RATE_LIMIT_WORK_PER_MINUTE: '2' },
    { webDir },
  );
  url = t.url;
}, 180_000);

afterAll(async () => {
  await t?.close();
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

function client(headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: `${url}/trpc`,
          EventSource,
          eventSourceOptions: { fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }) },
        }),
        false: httpBatchLink({ url: `${url}/trpc`, headers }),
      }),
    ],
  });
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

async function http(method: string, p: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers, text };
}

async function trpcError(p: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCClientError) return err as TRPCClientError<AppRouter>;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** The newest operation with this action, read as an operator. */
async function lastOperation(action: string): Promise<OperationRecord> {
  const page = await client(bearer(OPERATOR)).logs.operations.query({ action, limit: 1 });
  const op = page.items[0];
  if (!op) throw new Error(`no ${action} operation recorded`);
  return op;
}

describe('without credentials, while tokens exist', () => {
  it('tRPC, REST and /metrics answer 401 with a message; /healthz and the console stay open', async () => {
    const err = await trpcError(client().nodes.list.query());
    expect(err.data?.httpStatus).toBe(401);
    expect(err.data?.code).toBe('UNAUTHORIZED');
    expect(err.message).toMatch(/authentication required: send Authorization: Bearer <token>/);

    const rest = await http('GET', '/api/nodes');
    expect(rest.status).toBe(401);
    expect(rest.json.error).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('authentication required') });
    expect((await http('POST', '/api/nodes/zk1/drain', {}, {})).status).toBe(401);
    expect((await http('GET', '/metrics')).status).toBe(401);
    expect((await http('GET', '/api/auth/me')).status).toBe(401);

    expect((await http('GET', '/healthz')).status).toBe(200);
    expect((await http('GET', '/ui/')).status).toBe(200);
  });

  it('an unknown token is named as such', async () => {
    const err = await trpcError(client(bearer('not-a-real-token-at-all')).nodes.list.query());
    expect(err.data?.httpStatus).toBe(401);
    expect(err.message).toMatch(/unknown or revoked/);
    expect((await http('GET', '/api/nodes', { authorization: 'Basic abc' })).json.error.message).toMatch(/must be "Bearer <token>"/);
  });
});

describe('a viewer token', () => {
  it('reads over tRPC, REST and /metrics', async () => {
    expect(await client(bearer(VIEWER)).nodes.list.query()).toHaveLength(3);
    expect((await http('GET', '/api/nodes', bearer(VIEWER))).status).toBe(200);
    const metrics = await http('GET', '/metrics', bearer(VIEWER));
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('zkha_');
  });

  it('follows a live subscription over SSE', async () => {
    const ac = new AbortController();
    const first = await new Promise<unknown>((resolve, reject) => {
      const sub = client(bearer(VIEWER)).nodes.onStatus.subscribe(undefined, {
        signal: ac.signal,
        onData: (d) => {
          sub.unsubscribe();
          resolve(d);
        },
        onError: reject,
      });
      setTimeout(() => reject(new Error('no status event in 15 s')), 15_000);
    });
    ac.abort();
    expect(first).toBeTruthy();
  });

  it('gets 403 on a tRPC mutation and on a REST change, and nothing changes', async () => {
    const err = await trpcError(client(bearer(VIEWER)).nodes.drain.mutate({ node: 'zk2', reason: 'viewer tries' }));
    expect(err.data?.httpStatus).toBe(403);
    expect(err.data?.code).toBe('FORBIDDEN');
    expect(err.message).toBe('token:grafana has the viewer role; this needs operator');

    const rest = await http('POST', '/api/nodes/zk2/drain', bearer(VIEWER), { reason: 'viewer tries' });
    expect(rest.status).toBe(403);
    expect(rest.json.error.code).toBe('FORBIDDEN');
    const nodes = await client(bearer(VIEWER)).nodes.list.query();
    expect(nodes.find((n) => n.node === 'zk2')?.drained).toBe(false);
  });
});

describe('an operator token', () => {
  it('changes things over REST and tRPC, and the operations log names it', async () => {
    const drained = await http('POST', '/api/nodes/zk3/drain', bearer(OPERATOR), { reason: 'auth test' });
    expect(drained.status).toBe(200);
    expect((await lastOperation('drain')).actor).toBe('token:ops');
    await client(bearer(OPERATOR)).nodes.undrain.mutate({ node: 'zk3' });
    expect((await lastOperation('undrain')).actor).toBe('token:ops');
  });

  it('records `system` for what no request asked for', () => {
    expect(t.server.services.operations.record({ action: 'auth_test_timer', status: 'success' }).actor).toBe('system');
  });
});

describe('rate limits on work-creating mutations', () => {
  it('answers 429 with Retry-After once the allowance is spent, on REST and tRPC alike', async () => {
    const body = { node: 'zk1', files: 1, size_kb: 4 };
    expect((await http('POST', '/api/demo/stress', bearer(OPERATOR), body)).status).toBe(200);
    expect((await client(bearer(OPERATOR)).workload.stress.mutate({ node: 'zk1', files: 1, sizeKb: 4 })).created).toBe(1);

    const rest = await http('POST', '/api/demo/stress', bearer(OPERATOR), body);
    expect(rest.status).toBe(429);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(rest.json.error).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/too many requests that create work: try again in \d+ s/),
    });

    const res = await fetch(`${url}/trpc/workload.stress`, {
      method: 'POST',
      headers: { ...bearer(OPERATOR), 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'zk1', files: 1, sizeKb: 4 }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const json = (await res.json()) as { error: { message: string; data: { appCode: string; retryAfterSec: number } } };
    expect(json.error.data).toMatchObject({ appCode: 'RATE_LIMITED', retryAfterSec: expect.any(Number) });

    // Other mutations are not rationed, and other identities have their own allowance.
    expect((await http('POST', '/api/nodes/zk1/undrain', bearer(OPERATOR))).status).toBe(200);
  });
});

describe('the console login', () => {
  let cookie = '';
  let csrf = '';
  const origin = () => ({ origin: url });

  it('refuses a wrong token with a clear message', async () => {
    const res = await http('POST', '/api/auth/login', origin(), { token: 'wrong-token' });
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/wrong token/);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a login from a foreign origin', async () => {
    const res = await http('POST', '/api/auth/login', { origin: 'https://evil.example' }, { token: OPERATOR });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/cross-origin request refused/);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie and answers who is logged in', async () => {
    const res = await http('POST', '/api/auth/login', origin(), { token: OPERATOR, name: 'ops' });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^zkha_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toMatch(/Max-Age=\d+/);
    cookie = setCookie.split(';')[0]!;
    expect(res.json).toMatchObject({ actor: 'session:ops', role: 'operator', csrfToken: expect.any(String) });
    csrf = res.json.csrfToken;

    const me = await http('GET', '/api/auth/me', { cookie });
    expect(me.json).toMatchObject({ authRequired: true, kind: 'session', name: 'ops', role: 'operator', csrfToken: csrf, readOnly: false });
    // Only the hash of the cookie's id is stored.
    const stored = t.server.services.db.select().from(authSessions).all();
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.map((r) => r.idHash)).not.toContain(cookie.split('=')[1]);
    expect(stored.map((r) => r.idHash)).toContain(hashSecret(cookie.split('=')[1]!));
  });

  it('reads with the cookie alone', async () => {
    expect((await http('GET', '/api/nodes', { cookie })).status).toBe(200);
    expect(await client({ cookie }).nodes.list.query()).toHaveLength(3);
  });

  it('refuses a cookie mutation without the CSRF header, on REST and tRPC', async () => {
    const rest = await http('POST', '/api/nodes/zk2/drain', { cookie, ...origin() }, { reason: 'csrf test' });
    expect(rest.status).toBe(403);
    expect(rest.json.error.message).toMatch(/x-csrf-token/);
    const wrong = await http('POST', '/api/nodes/zk2/drain', { cookie, ...origin(), 'x-csrf-token': 'guess' }, { reason: 'csrf test' });
    expect(wrong.status).toBe(403);
    const err = await trpcError(client({ cookie }).nodes.drain.mutate({ node: 'zk2' }));
    expect(err.data?.httpStatus).toBe(403);
    expect(err.message).toMatch(/x-csrf-token/);
    expect((await client({ cookie }).nodes.list.query()).find((n) => n.node === 'zk2')?.drained).toBe(false);
  });

  it('accepts it with the CSRF header from the same origin, and records the session as the actor', async () => {
    const rest = await http('POST', '/api/nodes/zk2/drain', { cookie, ...origin(), 'x-csrf-token': csrf }, { reason: 'csrf test' });
    expect(rest.status).toBe(200);
    expect((await lastOperation('drain')).actor).toBe('session:ops');
    await client({ cookie, 'x-csrf-token': csrf }).nodes.undrain.mutate({ node: 'zk2' });
    expect((await lastOperation('undrain')).actor).toBe('session:ops');
  });

  it('refuses a mutation from a foreign Origin even with the right cookie and CSRF token', async () => {
    const res = await http('POST', '/api/nodes/zk2/drain', { cookie, origin: 'https://evil.example', 'x-csrf-token': csrf }, {});
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/cross-origin request refused: Origin https:\/\/evil\.example/);
  });

  it('logout ends the session and clears the cookie', async () => {
    const res = await http('POST', '/api/auth/logout', { cookie, ...origin(), 'x-csrf-token': csrf });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^zkha_session=; .*Max-Age=0/);
    const me = await http('GET', '/api/auth/me', { cookie });
    expect(me.status).toBe(401);
    expect(me.json.error.message).toMatch(/session has expired or was ended/);
  });
});

describe('security headers', () => {
  it('the console is served with a CSP without inline scripts, no framing, nosniff and a referrer policy', async () => {
    const res = await http('GET', '/ui/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');

    // Every script of the built page is an external file the CSP allows; none is inline.
    const scripts = [...res.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc=/);
      expect(body!.trim()).toBe('');
    }
    expect(await readFile(path.join(webDir, 'index.html'), 'utf8')).toBe(res.text);
    expect(res.text).not.toMatch(/\bon[a-z]+=/i); // no inline event handlers either
  });

  it('API answers carry the headers too', async () => {
    const res = await http('GET', '/healthz');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
