import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AgentClient } from '@zkha/storage';
import { ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { STORES_ROOT, type AliveRecord } from './agent.ts';
import { entryArgs } from './entry.ts';
import { AGENT_ENTRY, AgentSupervisor } from './supervisor.ts';
import { sha256 } from './test-helpers.ts';

let ensemble: TestEnsemble;
let observer: ZkSession;
let dir: string;

beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 1 });
  observer = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-agent-api-'));
});
afterAll(async () => {
  await observer?.close();
  await ensemble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function aliveWithUrl(node: string): Promise<AliveRecord> {
  const t0 = Date.now();
  for (;;) {
    const rec = await observer.client.getJson<AliveRecord>(`${STORES_ROOT}/${node}/alive`).catch(() => null);
    if (rec?.dataUrl) return rec;
    if (Date.now() - t0 > 20_000) throw new Error(`${node} did not advertise a data URL within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the data API of supervised agent processes', () => {
  it('each agent serves its folder on its own 127.0.0.1 port, advertised in its alive znode beside the heartbeat', async () => {
    const sup = new AgentSupervisor({
      agents: ['zk1', 'zk2'].map((node) => ({
        node,
        zk: ensemble.connectionString,
        folder: path.join(dir, 'uploads', node),
        logFile: path.join(dir, 'logs', `${node}.log`),
        capacityBytes: node === 'zk1' ? 1024 * 1024 * 1024 : null,
      })),
      sessionTimeoutMs: 4000,
      heartbeatIntervalMs: 300,
      restartDelayMs: 300,
    });
    try {
      sup.startAll();
      const [one, two] = await Promise.all([aliveWithUrl('zk1'), aliveWithUrl('zk2')]);
      // The old fields are all still there.
      expect(one).toMatchObject({ node: 'zk1', address: ensemble.connectionString, pid: sup.pid('zk1'), heartbeatIntervalMs: 300 });
      expect(one.dataUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(one.dataUrl).not.toBe(two.dataUrl);
      // A configured capacity is what the node advertises, not the disk's size.
      expect(one.capacityBytes).toBe(1024 * 1024 * 1024);

      const token = sup.dataToken!;
      const c1 = new AgentClient({ url: one.dataUrl!, token });
      const c2 = new AgentClient({ url: two.dataUrl!, token });
      const body = Buffer.from('bytes that only agents touch');
      await c1.put('hello.txt', body, { sha256: sha256(body), sizeBytes: body.length });
      const moved = await c2.pull(c1, [{ name: 'hello.txt', sha256: sha256(body), sizeBytes: body.length }]);
      expect(moved.results[0]).toMatchObject({ ok: true, created: true });
      expect(await readFile(path.join(dir, 'uploads', 'zk2', 'hello.txt'))).toEqual(body);
      expect((await c1.usage()).filesystemId).toBe((await c2.usage()).filesystemId); // one disk: the future fast path
      c1.close();
      c2.close();

      // The token is in neither the command line nor the log; nothing but files went into the node folder.
      const cmdline = await readFile(`/proc/${sup.pid('zk1')}/cmdline`, 'utf8');
      expect(cmdline).toContain('--listen');
      expect(cmdline).not.toContain(token);
      expect(await readFile(path.join(dir, 'logs', 'zk1.log'), 'utf8')).not.toContain(token);

      // A restarted agent (new port) advertises its new URL.
      sup.kill('zk1');
      const t0 = Date.now();
      let again = one;
      while (again.pid === one.pid || !again.dataUrl) {
        if (Date.now() - t0 > 20_000) throw new Error('zk1 did not come back');
        await new Promise((r) => setTimeout(r, 100));
        again = (await observer.client.getJson<AliveRecord>(`${STORES_ROOT}/zk1/alive`).catch(() => null)) ?? one;
      }
      const c3 = new AgentClient({ url: again.dataUrl, token });
      expect((await c3.stat('hello.txt')).sha256).toBe(sha256(body));
      c3.close();
    } finally {
      await sup.stopAll();
    }
  });
});

describe('zkha-agent run on its own', () => {
  it('--help prints the flags; an unknown flag is one line and the usage (exit 2), not a stack', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [...entryArgs(AGENT_ENTRY), ...args], {
        encoding: 'utf8',
      });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: zkha-agent --node <name> --zk <host:port,\.\.\.> --folder <dir>/);
    expect(help.stdout).toContain('--max-file-bytes');
    const bad = run('--nodes', 'zk1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^zkha-agent: Unknown option '--nodes'/);
    expect(bad.stderr).toContain('usage: zkha-agent');
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('generates its token into --token-file (mode 0600) at first start, keeps it on restart, and advertises --advertise', async () => {
    const folder = path.join(dir, 'standalone');
    const tokenFile = path.join(dir, 'secrets', 'agent-token');
    const start = async () => {
      const child = spawn(
        process.execPath,
        [
          ...entryArgs(AGENT_ENTRY),
          '--node',
          'zk5',
          '--zk',
          ensemble.connectionString,
          '--dir',
          folder,
          '--listen',
          '127.0.0.1:0',
          '--advertise',
          'storage-5.example:7071',
          '--token-file',
          tokenFile,
          '--capacity',
          '1GiB',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZKHA_AGENT_TOKEN: '' } },
      );
      let out = '';
      child.stdout.on('data', (c) => (out += String(c)));
      child.stderr.on('data', (c) => (out += String(c)));
      const rec = await aliveWithUrl('zk5');
      return { child, rec, output: () => out };
    };
    const first = await start();
    try {
      expect(first.rec.dataUrl).toBe('http://storage-5.example:7071');
      expect(first.rec.capacityBytes).toBe(2 ** 30);
      expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
      const token = (await readFile(tokenFile, 'utf8')).trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(first.output()).toContain(`token from ${tokenFile}, generated`);
      expect(first.output()).not.toContain(token);
      // The advertised name is for others; this test reaches it where it listens.
      const listening = /serves .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(first.output())?.[1];
      const client = new AgentClient({ url: listening!, token });
      expect((await client.usage()).capacityBytes).toBe(2 ** 30);
      client.close();
    } finally {
      first.child.kill('SIGTERM');
      await once(first.child, 'exit');
    }
    const tokenBefore = await readFile(tokenFile, 'utf8');
    const second = await start();
    try {
      expect(await readFile(tokenFile, 'utf8')).toBe(tokenBefore);
      expect(second.output()).not.toContain('generated');
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
  });
});
