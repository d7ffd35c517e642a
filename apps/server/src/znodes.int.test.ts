/** The znode explorer over REST and tRPC, with tokens: viewers read, operators write; errors in the API's shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootTestServer, type TestServer } from './testing.ts';

const VIEWER = 'viewer-token-0123456789abcdef';
const OPERATOR = 'operator-token-0123456789abcdef';
let t: TestServer;
beforeAll(async () => {
  t = await bootTestServer({ API_TOKENS: `v:viewer:${VIEWER},o:operator:${OPERATOR}` });
});
afterAll(async () => {
  await t?.close();
});

async function call(method: string, p: string, token: string, body?: unknown) {
  const res = await fetch(`${t.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('znodes over REST and tRPC', () => {
  it('reads with a viewer token, writes with an operator token, at the version read', async () => {
    const root = await call('GET', '/api/znodes/children?path=/', VIEWER);
    expect(root.status).toBe(200);
    expect(root.json.children.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['zkha', 'zookeeper']));
    expect((await call('POST', '/api/znodes', VIEWER, { path: '/app', data: { text: 'v1' } })).status).toBe(403);
    const made = await call('POST', '/api/znodes', OPERATOR, { path: '/app', data: { text: '{"a":1}' } });
    expect(made.status).toBe(200);
    expect(made.json).toMatchObject({ path: '/app', data: { isJson: true, json: { a: 1 } }, stat: { version: 0 } });
    const got = await call('GET', '/api/znodes?path=/app', VIEWER);
    expect(got.json.acl).toHaveLength(2); // zkha's ACL: its digest user does anything, anyone reads
    expect(
      (await call('PUT', '/api/znodes', OPERATOR, { path: '/app', data: { base64: Buffer.from('v2').toString('base64') }, version: 0 }))
        .json.stat.version,
    ).toBe(1);
    const stale = await call('PUT', '/api/znodes', OPERATOR, { path: '/app', data: { text: 'v3' }, version: 0 });
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({ code: 'CONFLICT', details: { current: { version: 1, data: { text: 'v2' } } } });
    // tRPC: the same procedures.
    const trpc = await fetch(`${t.url}/trpc/znodes.get?input=${encodeURIComponent(JSON.stringify({ path: '/app' }))}`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(((await trpc.json()) as { result: { data: { data: { text: string } } } }).result.data.data.text).toBe('v2');
  });

  it('refuses clearly: a guarded subtree, a bad path, a missing node, a non-empty node', async () => {
    expect((await call('DELETE', '/api/znodes', OPERATOR, { path: '/zkha/files' })).json.error).toMatchObject({
      code: 'CONFLICT',
      details: { guarded: true },
    });
    expect((await call('GET', '/api/znodes?path=app', VIEWER)).status).toBe(400);
    expect((await call('GET', '/api/znodes?path=/nothing/here', VIEWER)).status).toBe(404);
    await call('POST', '/api/znodes', OPERATOR, { path: '/app/child' });
    expect((await call('DELETE', '/api/znodes', OPERATOR, { path: '/app' })).json.error.message).toMatch(/has children/);
    expect((await call('DELETE', '/api/znodes', OPERATOR, { path: '/app', recursive: true })).json).toEqual({
      path: '/app',
      deleted: 0,
      wouldDelete: 2,
    });
    expect((await call('DELETE', '/api/znodes', OPERATOR, { path: '/app', recursive: true, confirm: true })).json).toEqual({
      path: '/app',
      deleted: 2,
      wouldDelete: 2,
    });
    expect(
      (await call('PUT', '/api/znodes/acl', OPERATOR, { path: '/zkha', acl: ['world:anyone:rx'], version: -1, confirm: true })).status,
    ).toBe(400);
  });

  it("a server's four-letter words, read-only, through zkha", async () => {
    const ruok = await call('GET', '/api/nodes/zk1/4lw/ruok', VIEWER);
    expect(ruok.json).toEqual({ node: 'zk1', command: 'ruok', text: 'imok' });
    expect((await call('GET', '/api/nodes/zk2/4lw/srvr', VIEWER)).json.text).toMatch(/^Mode: (leader|follower)$/m);
    expect((await call('GET', '/api/nodes/zk1/4lw/kill', VIEWER)).status).toBe(400);
    expect((await call('GET', '/api/nodes/zk9/4lw/srvr', VIEWER)).status).toBe(404);
  });
});
