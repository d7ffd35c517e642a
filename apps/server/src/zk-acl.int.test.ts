/**
 * The ZooKeeper ACL test of the whole server: three boots in one data folder, on the embedded ensemble.
 * 1. ZK_AUTH=none: the old open tree, with a warning.
 * 2. ZK_AUTH unset: credentials generated into data/zk-auth (0600), the open tree protected once (an
 *    operation with the count), uploads and agents' alive znodes protected; a client without credentials
 *    reads /zkha/files/<uuid> but is refused every change, zkha's credentials may do all of it.
 * 3. ZK_AUTH unset again: the same file and credentials, nothing left to migrate, writes still work.
 */
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isZkError, protectedAcl, ZK_PERMS, ZkClient, type ZkDigestCredentials } from '@zkha/zk';

import { boot, type RunningServer } from './boot.ts';
import { loadConfig } from './config.ts';
import { eventually, testServerEnv } from './testing.ts';

let dir: string;
let env: Record<string, string>;
let server: RunningServer | null = null;
let lines: string[] = [];
let generated: ZkDigestCredentials;

async function start(extra: Record<string, string> = {}): Promise<RunningServer> {
  lines = [];
  server = await boot(loadConfig({ ...env, ...extra }), { log: (l) => lines.push(l) });
  return server;
}

async function stop(): Promise<void> {
  await server?.stop();
  server = null;
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isZkError(err) ? err.code : String(err);
  }
}

function zkConnection(s: RunningServer): string {
  return s.ensemble!.connectionString;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-acl-'));
  // Unset (''): the embedded default generates credentials, unlike the other tests' fixed ones.
  env = { ...(await testServerEnv(dir)), ZK_AUTH: '', AGENT_SESSION_TIMEOUT: '4000', AGENT_HEARTBEAT_MS: '500' };
});

afterAll(async () => {
  await stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ZooKeeper ACL: zkha protects its znodes under /zkha', () => {
  it('with ZK_AUTH=none the tree is open, and the log says so', { timeout: 120_000 }, async () => {
    const s = await start({ ZK_AUTH: 'none' });
    expect(lines.some((l) => /warning: ZK_AUTH=none: zkha's znodes under \/zkha are open/.test(l))).toBe(true);
    await s.services.workload.stress({ node: 'zk1', files: 4, sizeKb: 1, triggerScheduler: false });
    const anyone = await ZkClient.connect(zkConnection(s));
    try {
      expect(await anyone.getAcl('/zkha')).toEqual([{ scheme: 'world', id: 'anyone', perms: ZK_PERMS.all }]);
      expect(await anyone.children('/zkha/files')).toHaveLength(4);
    } finally {
      await anyone.close();
    }
    expect(fs.existsSync(path.join(dir, 'zk-auth'))).toBe(false);
    await stop();
  });

  it(
    'unset on the embedded ensemble: generated 0600 credentials, the old tree protected once, every change refused to others',
    { timeout: 120_000 },
    async () => {
      const s = await start();
      const file = path.join(dir, 'zk-auth');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const [user, ...rest] = fs.readFileSync(file, 'utf8').trim().split(':');
      generated = { user: user!, password: rest.join(':') };
      expect(generated.user).toBe('zkha');
      expect(lines).toContain(`generated ZooKeeper credentials for /zkha in ${file} (mode 0600)`);
      // The password is in no log line.
      expect(lines.join('\n')).not.toContain(generated.password);

      // The migration: once, counted, in the audit trail and the log.
      const ops = s.services.operations.list({ action: 'zk_acl_protect', limit: 10 }).items;
      expect(ops).toHaveLength(1);
      expect(ops[0]).toMatchObject({ status: 'success', details: { root: '/zkha' } });
      const znodes = Number(ops[0]!.details.znodes);
      // At least /zkha, /zkha/files, the 4 files, /zkha/stores and a folder per store.
      expect(znodes).toBeGreaterThanOrEqual(1 + 1 + 4 + 1 + 3);
      expect(lines.some((l) => l.includes(`protected ${znodes} znodes`))).toBe(true);

      await s.services.workload.stress({ node: 'zk2', files: 2, sizeKb: 1, triggerScheduler: false });
      const uuids = await s.services.metadata.list();
      expect(uuids).toHaveLength(6);
      const acl = protectedAcl(generated);

      const anyone = await ZkClient.connect(zkConnection(s));
      const zkha = await ZkClient.connect(zkConnection(s), { auth: generated });
      try {
        for (const p of ['/zkha', '/zkha/files', '/zkha/stores', ...uuids.map((u) => `/zkha/files/${u}`)]) {
          expect(await zkha.getAcl(p), p).toEqual(acl);
        }
        // Each agent's ephemeral alive znode, created by the agent process with the credentials it was handed.
        for (const n of ['zk1', 'zk2', 'zk3']) {
          await eventually(() => zkha.exists(`/zkha/stores/${n}/alive`), 20_000, `${n} alive`);
          expect(await zkha.getAcl(`/zkha/stores/${n}/alive`)).toEqual(acl);
        }

        // Without credentials: reads work, every change is refused.
        const target = `/zkha/files/${uuids[0]}`;
        const before = await anyone.get(target);
        expect(JSON.parse(before.data!.toString('utf8'))).toMatchObject({ uuid: uuids[0] });
        expect(await outcome(anyone.set(target, '{"tampered":true}'))).toBe('NO_AUTH');
        expect(await outcome(anyone.remove(target))).toBe('NO_AUTH');
        expect(await outcome(anyone.create('/zkha/files/intruder', '{}'))).toBe('NO_AUTH');
        expect(await outcome(anyone.create('/zkha/intruder'))).toBe('NO_AUTH');
        expect(await outcome(anyone.remove('/zkha/stores/zk1/alive'))).toBe('NO_AUTH');
        expect(await outcome(anyone.setAcl('/zkha', [{ scheme: 'world', id: 'anyone', perms: ZK_PERMS.all }]))).toBe('NO_AUTH');
        expect((await anyone.get(target)).version).toBe(before.version);

        // zkha's credentials may do all of it.
        expect(await outcome(zkha.set(target, before.data))).toBe('ok');
        expect(await outcome(zkha.create('/zkha/files-probe', '{}'))).toBe('ok');
        expect(await outcome(zkha.remove('/zkha/files-probe'))).toBe('ok');
      } finally {
        await anyone.close();
        await zkha.close();
      }
      await stop();
    },
  );

  it('a second boot reuses the same credentials file and has nothing left to migrate', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'zk-auth');
    const content = fs.readFileSync(file, 'utf8');
    const s = await start();
    expect(lines).toContain(`ZooKeeper credentials for /zkha from ${file}`);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(s.services.operations.list({ action: 'zk_acl_protect', limit: 10 }).items).toHaveLength(1);
    expect(lines.some((l) => l.includes('had an open ACL'))).toBe(false);
    await s.services.workload.stress({ node: 'zk3', files: 1, sizeKb: 1, triggerScheduler: false });
    const zkha = await ZkClient.connect(zkConnection(s), { auth: generated });
    try {
      const uuids = await s.services.metadata.list();
      expect(uuids).toHaveLength(7);
      for (const u of uuids) expect(await zkha.getAcl(`/zkha/files/${u}`)).toEqual(protectedAcl(generated));
    } finally {
      await zkha.close();
    }
    await stop();
  });
});
