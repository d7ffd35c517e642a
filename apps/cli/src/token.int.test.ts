import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootTestServer, type TestServer } from '@zkha/server/testing';

/**
 * `zkha token` against a running server's real database file: the token it prints works at once, its
 * operations are recorded as `token:<name>`, and revoking it shuts it out. Then `--token`/ZKHA_TOKEN.
 */
const BIN = fileURLToPath(new URL('../bin/zkha.js', import.meta.url));

let t: TestServer;
let dbPath: string;

beforeAll(async () => {
  t = await bootTestServer();
  dbPath = path.join(t.dir, 'zkha.db');
});

afterAll(async () => {
  await t?.close();
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { ZKHA_TOKEN: _token, DATABASE_PATH: _db, ...base } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ZKHA_URL: t.url, ...env }, stdio: 'pipe' });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('zkha token', () => {
  let operator = '';
  let viewer = '';

  it('refuses to invent a database that is not there', async () => {
    const r = await cli(['token', 'list', '--db', path.join(t.dir, 'nope', 'zkha.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: no zkha database at .*nope\/zkha\.db: run this on the server's machine/);
  });

  it('create prints the secret once; from then on the server wants a token', async () => {
    const before = await cli(['status']);
    expect(before.code).toBe(0); // open local mode until the first token exists

    const created = await cli(['token', 'create', 'ci', '--role', 'operator', '--db', dbPath]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created token "ci" \(operator\)$/m);
    operator = /secret, shown only now: (zkha_\S+)/.exec(created.stdout)?.[1] ?? '';
    expect(operator).toMatch(/^zkha_[A-Za-z0-9_-]{43}$/);

    const json = await cli(['--json', 'token', 'create', 'grafana', '--role', 'viewer'], { DATABASE_PATH: dbPath });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { name: string; role: string; secret: string };
    expect(doc).toMatchObject({ name: 'grafana', role: 'viewer' });
    viewer = doc.secret;

    const anonymous = await cli(['status']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^error: authentication required: send Authorization: Bearer <token>/);
  });

  it('a second token of the same name is refused', async () => {
    const r = await cli(['token', 'create', 'ci', '--role', 'viewer', '--db', dbPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a token named "ci" exists already/);
  });

  it('--token and ZKHA_TOKEN authenticate; the operations log names the token; a viewer cannot change things', async () => {
    expect((await cli(['status'], { ZKHA_TOKEN: viewer })).code).toBe(0);
    const denied = await cli(['nodes', 'drain', 'zk1'], { ZKHA_TOKEN: viewer });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('error: token:grafana has the viewer role; this needs operator\n');

    const drained = await cli(['--token', operator, 'nodes', 'drain', 'zk1', '--reason', 'token test']);
    expect(drained.code).toBe(0);
    expect(t.server.services.operations.list({ action: 'drain', limit: 1 }).items[0]).toMatchObject({ node: 'zk1', actor: 'token:ci' });
    await cli(['nodes', 'undrain', 'zk1'], { ZKHA_TOKEN: operator });
  });

  it('list shows names, roles and last use, never a secret; revoke shuts the token out at once', async () => {
    const list = await cli(['token', 'list', '--db', dbPath]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ci\s+│ operator/);
    expect(list.stdout).toMatch(/grafana\s+│ viewer/);
    expect(list.stdout).not.toContain(operator);
    expect(list.stdout).not.toContain(viewer);

    const revoked = await cli(['token', 'revoke', 'ci', '--db', dbPath]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe('revoked token "ci"\n');
    const after = await cli(['status'], { ZKHA_TOKEN: operator });
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/the bearer token is unknown or revoked/);
    const again = await cli(['token', 'revoke', 'ci', '--db', dbPath]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active token named "ci"/);
  });
});
